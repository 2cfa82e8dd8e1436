using System.Collections.Generic;
using System.Linq;
using CacheGen.Generator.Diagnostics;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace CacheGen.Generator.Parsing;

// Finding the HybridCache the generated code reads: a field, property or primary-constructor parameter of the type.
internal sealed partial class Parser
{
    private string FindHybridCache()
    {
        INamedTypeSymbol type = _method.ContainingType;
        string TypeName() => type.ToDisplayString(MessageFormat);
        if (_known.HybridCache is null)
        {
            Report(DiagnosticDescriptors.MissingHybridCache, _syntax.Identifier, TypeName(), _method.IsStatic ? "static " : "", MethodName,
                " (Microsoft.Extensions.Caching.Abstractions 9.0 or later is not referenced)");
            return "null!";
        }

        var instanceMembers = new List<ISymbol>();
        var staticMembers = new List<ISymbol>();
        var seen = new HashSet<string>();
        for (INamedTypeSymbol? current = type; current is not null; current = current.BaseType)
        {
            foreach (ISymbol member in current.GetMembers())
            {
                if (IsReadableHybridCache(member, type) && seen.Add(member.Name))
                    (member.IsStatic ? staticMembers : instanceMembers).Add(member);
            }
        }

        // A nested type can also use a static cache of the types it is nested in.
        for (INamedTypeSymbol? outer = type.ContainingType; staticMembers.Count == 0 && instanceMembers.Count == 0 && outer is not null; outer = outer.ContainingType)
            staticMembers.AddRange(outer.GetMembers().Where(m => m.IsStatic && IsReadableHybridCache(m, type)));

        List<ISymbol> candidates = _method.IsStatic ? staticMembers : instanceMembers.Count > 0 ? instanceMembers : staticMembers;
        if (candidates.Count > 1)
        {
            Report(DiagnosticDescriptors.MultipleHybridCaches, _syntax.Identifier, TypeName(),
                string.Join(", ", candidates.Select(c => c.Name)), MethodName);
            return "null!";
        }
        if (candidates.Count == 1)
        {
            ISymbol member = candidates[0];
            return member.IsStatic
                ? member.ContainingType.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat) + "." + Escape(member.Name)
                : "this." + Escape(member.Name);
        }

        if (!_method.IsStatic && PrimaryConstructorCacheParameters(type) is { Count: > 0 } parameters)
        {
            if (parameters.Count > 1)
            {
                Report(DiagnosticDescriptors.MultipleHybridCaches, _syntax.Identifier, TypeName(),
                    string.Join(", ", parameters.Select(p => p.Name)), MethodName);
                return "null!";
            }
            IParameterSymbol parameter = parameters[0];
            if (_method.Parameters.Any(p => p.Name == parameter.Name))
            {
                Report(DiagnosticDescriptors.HybridCacheParameterHidden, _syntax.Identifier, parameter.Name, MethodName);
                return "null!";
            }
            return Escape(parameter.Name);
        }

        if (MentionsUnresolvedHybridCache(type))
        {
            _metErrorType = true;
            return "null!";
        }
        Report(DiagnosticDescriptors.MissingHybridCache, _syntax.Identifier, TypeName(), _method.IsStatic ? "static " : "", MethodName, "");
        return "null!";
    }

    // A member or primary-constructor parameter typed 'HybridCache' that does not resolve (a missing using, say): the
    // compiler reports that, and "no HybridCache member" would only send the user looking in the wrong place.
    private static bool MentionsUnresolvedHybridCache(INamedTypeSymbol type)
    {
        static bool IsUnresolved(ITypeSymbol t) => t.TypeKind == TypeKind.Error && t.Name == "HybridCache";
        return type.GetMembers().Any(m => m switch
            {
                IFieldSymbol field => IsUnresolved(field.Type),
                IPropertySymbol property => IsUnresolved(property.Type),
                _ => false,
            })
            || type.InstanceConstructors.Any(c => c.Parameters.Any(p => IsUnresolved(p.Type)));
    }

    /// <summary>A field, or a property with a getter, of type HybridCache that code in <paramref name="within"/> can read.</summary>
    private bool IsReadableHybridCache(ISymbol member, INamedTypeSymbol within) => member switch
    {
        IFieldSymbol field => !field.IsImplicitlyDeclared && IsHybridCache(field.Type) && _compilation.IsSymbolAccessibleWithin(field, within),
        IPropertySymbol property => !property.IsIndexer && property.GetMethod is not null && IsHybridCache(property.Type)
            && _compilation.IsSymbolAccessibleWithin(property, within) && _compilation.IsSymbolAccessibleWithin(property.GetMethod, within),
        _ => false,
    };

    private List<IParameterSymbol>? PrimaryConstructorCacheParameters(INamedTypeSymbol type)
    {
        foreach (IMethodSymbol constructor in type.InstanceConstructors)
        {
            bool isPrimary = constructor.DeclaringSyntaxReferences.Any(r => r.GetSyntax(_cancellationToken) is TypeDeclarationSyntax);
            if (isPrimary)
                return constructor.Parameters.Where(p => IsHybridCache(p.Type)).ToList();
        }
        return null;
    }

    private bool IsHybridCache(ITypeSymbol type)
    {
        for (ITypeSymbol? current = type; current is not null; current = current.BaseType)
        {
            if (SymbolEqualityComparer.Default.Equals(current, _known.HybridCache))
                return true;
        }
        return false;
    }
}
