using System.ComponentModel;
using System.Reflection;
using System.Runtime.CompilerServices;

namespace CacheGen.Redis;

/// <summary>
/// Whether a cached <typeparamref name="T"/> may be handed to several callers as one instance. Everything else is
/// deserialized anew for each caller, so one caller's mutation never shows up in another's result. Decided once per type.
/// </summary>
internal static class ImmutableType<T>
{
    public static readonly bool Value = Decide();

    private static bool Decide()
    {
        Type type = typeof(T);
        if (type == typeof(string))
            return true;
        // Primitives, enums, DateTime, Guid, decimal, their Nullable<> and other structs without references are copied
        // on return, so sharing them is safe.
        if (!RuntimeHelpers.IsReferenceOrContainsReferences<T>())
            return true;
        // Anything else has to promise it: sealed (no mutable subclass can hide behind it) and [ImmutableObject(true)].
        return type.IsSealed && type.GetCustomAttribute<ImmutableObjectAttribute>() is { Immutable: true };
    }
}
