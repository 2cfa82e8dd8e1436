using System.Linq;
using Microsoft.CodeAnalysis;

namespace CacheGen.Generator.Parsing;

/// <summary>How a method the generated code calls is matched to the method that stands for it.</summary>
internal static class SignatureMatch
{
    /// <summary>
    /// Whether <paramref name="declared"/> takes and returns what <paramref name="required"/> does: as many type parameters
    /// (matched by position), the same parameter types and ref kinds, the same return type.
    /// </summary>
    public static bool SameParametersAndReturnType(IMethodSymbol required, IMethodSymbol declared)
    {
        if (required.TypeParameters.Length != declared.TypeParameters.Length || required.Parameters.Length != declared.Parameters.Length)
            return false;
        if (required.IsGenericMethod)
            required = required.Construct(declared.TypeParameters.Cast<ITypeSymbol>().ToArray());
        for (int i = 0; i < required.Parameters.Length; i++)
        {
            if (required.Parameters[i].RefKind != declared.Parameters[i].RefKind
                || !SymbolEqualityComparer.Default.Equals(required.Parameters[i].Type, declared.Parameters[i].Type))
                return false;
        }
        return required.ReturnsVoid == declared.ReturnsVoid && SymbolEqualityComparer.Default.Equals(required.ReturnType, declared.ReturnType);
    }
}
