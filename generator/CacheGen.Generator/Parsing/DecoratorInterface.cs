using System.Collections.Generic;
using System.Linq;
using CacheGen.Generator.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace CacheGen.Generator.Parsing;

/// <summary>
/// The rules a <c>[CacheDecorator]</c> class and its attributed methods are both parsed by: which interface it
/// decorates, which constructor parameter is the inner service, and which interface member an attributed method
/// without a core method stands for. The method step and the decorator step must agree on them, so they live here once.
/// </summary>
internal static class DecoratorInterface
{
    public static AttributeData? AttributeOf(INamedTypeSymbol type) =>
        type.GetAttributes().FirstOrDefault(a => a.AttributeClass?.ToDisplayString() == KnownNames.CacheDecoratorAttribute);

    /// <summary>The interface named by the attribute, or null when it names something a decorator cannot implement.</summary>
    public static INamedTypeSymbol? ServiceOf(AttributeData attribute) =>
        attribute.ConstructorArguments.Length == 1
        && attribute.ConstructorArguments[0].Value is INamedTypeSymbol { TypeKind: TypeKind.Interface, IsUnboundGenericType: false } service
            ? service
            : null;

    /// <summary>The primary constructor, the one the generated factory calls and whose parameter is the inner service.</summary>
    public static IMethodSymbol? PrimaryConstructor(INamedTypeSymbol type, System.Threading.CancellationToken cancellationToken) =>
        type.InstanceConstructors.FirstOrDefault(c => c.DeclaringSyntaxReferences.Any(r => r.GetSyntax(cancellationToken) is TypeDeclarationSyntax));

    public static List<IParameterSymbol> InnerParameters(IMethodSymbol? constructor, INamedTypeSymbol service) =>
        constructor is null
            ? new List<IParameterSymbol>()
            : constructor.Parameters.Where(p => SymbolEqualityComparer.Default.Equals(p.Type, service)).ToList();

    /// <summary>The inner parameter when the decorator is usable: one interface, one inner parameter, a class that can be created.</summary>
    public static IParameterSymbol? InnerParameter(INamedTypeSymbol type, System.Threading.CancellationToken cancellationToken)
    {
        if (AttributeOf(type) is not { } attribute || ServiceOf(attribute) is not { } service || type.IsAbstract || type.IsStatic)
            return null;
        List<IParameterSymbol> inner = InnerParameters(PrimaryConstructor(type, cancellationToken), service);
        return inner.Count == 1 ? inner[0] : null;
    }

    /// <summary>Every member the decorator must implement: abstract instance members of the interface and those it inherits.</summary>
    public static IEnumerable<(INamedTypeSymbol Interface, ISymbol Member)> AbstractMembers(INamedTypeSymbol service) =>
        new[] { service }.Concat(service.AllInterfaces)
            .SelectMany(i => i.GetMembers().Where(m => !m.IsStatic && m.IsAbstract).Select(m => (i, m)));

    /// <summary>The interface method <paramref name="method"/> stands for: same name, type parameters, parameters and return type.</summary>
    public static (INamedTypeSymbol Interface, IMethodSymbol Method)? MatchingMethod(INamedTypeSymbol service, IMethodSymbol method)
    {
        foreach ((INamedTypeSymbol declaring, ISymbol member) in AbstractMembers(service))
        {
            if (member is IMethodSymbol { MethodKind: MethodKind.Ordinary } candidate && candidate.Name == method.Name && SameSignature(candidate, method))
                return (declaring, candidate);
        }
        return null;
    }

    /// <summary>Whether <paramref name="declared"/> has <paramref name="required"/>'s signature, a ref return's kind included.</summary>
    public static bool SameSignature(IMethodSymbol required, IMethodSymbol declared) =>
        SignatureMatch.SameParametersAndReturnType(required, declared) && required.RefKind == declared.RefKind;
}
