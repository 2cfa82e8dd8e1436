using System.Collections.ObjectModel;
using System.ComponentModel;
using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Runtime.CompilerServices;

namespace CacheGen.Redis;

/// <summary>
/// Whether a cached <typeparamref name="T"/> may be handed to several callers as one instance. Everything else is
/// deserialized anew for each caller, so one caller's mutation never shows up in another's result. Decided once per type.
/// This is the one definition of "shared on a hit": the generator's CG0018 warning is tested against it, type by type.
/// </summary>
internal static class ImmutableType<T>
{
    public static readonly bool Value = Decide();

    /// <summary>
    /// For <c>IReadOnlyList&lt;E&gt;</c>, <c>IReadOnlyCollection&lt;E&gt;</c> and <c>IEnumerable&lt;E&gt;</c> of an immutable
    /// <c>E</c>: makes the read-only copy that the in-process cache shares between callers (a
    /// <see cref="ReadOnlyCollection{E}"/>, which no cast can mutate). <see langword="null"/> for every other type. The
    /// caller that computed the value keeps its own instance; only the copy is shared.
    /// </summary>
    public static readonly Func<T, T>? ReadOnlyCopy = DecideReadOnlyCopy();

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

    [UnconditionalSuppressMessage("AOT", "IL3050", Justification = "Only runs where dynamic code is supported; elsewhere lists are copied per hit.")]
    private static Func<T, T>? DecideReadOnlyCopy()
    {
        Type type = typeof(T);
        if (!RuntimeFeature.IsDynamicCodeSupported || !type.IsInterface || !type.IsGenericType)
            return null;
        Type definition = type.GetGenericTypeDefinition();
        if (definition != typeof(IReadOnlyList<>) && definition != typeof(IReadOnlyCollection<>) && definition != typeof(IEnumerable<>))
            return null;
        var copier = (IReadOnlyCopier)Activator.CreateInstance(typeof(ReadOnlyCopier<>).MakeGenericType(type.GetGenericArguments()))!;
        return copier.Applies ? value => value is null ? value : (T)copier.Copy(value) : null;
    }
}
