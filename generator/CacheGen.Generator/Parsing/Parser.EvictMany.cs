using System.Linq;
using CacheGen.Generator.Diagnostics;
using CacheGen.Generator.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace CacheGen.Generator.Parsing;

// Evicting many: a writing method's collection parameter stands for each of its elements, in a typed eviction
// ([InvalidatesCache(Method = ...)] whose target's key argument is the element) and in Key and Tags templates.
internal sealed partial class Parser
{
    /// <summary>The name the generated loop gives each element of a collection placeholder.</summary>
    private const string EachVariable = "__each";

    // The collection parameter the template being parsed expands over, if any.
    private EachModel? _each;

    /// <summary>The expansion of the template just parsed (null when it names no collection), forgotten for the next one.</summary>
    private EachModel? TakeEach()
    {
        EachModel? each = _each;
        _each = null;
        return each;
    }

    /// <summary>
    /// In a writing method's template, a placeholder that names a collection parameter as a whole stands for each element:
    /// returns the element type (and remembers the expansion). One collection per template.
    /// </summary>
    private ITypeSymbol? EachElement(IParameterSymbol parameter, string[] path, SyntaxNode? location)
    {
        if (_attributes.Cached is not null || path.Length != 1 || parameter.Type.SpecialType == SpecialType.System_String
            || IdElement(parameter.Type, out _) is not { } element)
            return null;
        var each = new EachModel(Escape(parameter.Name), EachVariable, element.ToDisplayString(TypeFormat));
        if (_each is not null && _each != each)
        {
            Report(DiagnosticDescriptors.BatchUnsupportedType, location, MethodName,
                $"expands one template over two collections ('{_each.Collection}' and '{each.Collection}'); a template expands over one collection");
            return null;
        }
        _each = each;
        return element;
    }

    /// <summary>
    /// A typed eviction of many: the one <c>[Cached]</c> method named <paramref name="name"/> whose key varies in one
    /// argument this method has as a collection of its type (the key's other arguments this method passes as they are,
    /// same name and type). Null when that is not the case: the single-entry rules apply then.
    /// </summary>
    private KeyModel? CollectionTargetKey(string name)
    {
        var candidates = _method.ContainingType.GetMembers(name).OfType<IMethodSymbol>()
            .SelectMany(m => m.DeclaringSyntaxReferences.Select(r => (Method: m, Syntax: r.GetSyntax(_cancellationToken) as MethodDeclarationSyntax)))
            .Where(c => c.Syntax is not null && CacheGenAttributes.Of(c.Method, c.Syntax, _known).Cached is not null)
            .ToList();
        if (candidates.Count != 1 || candidates[0].Method.IsGenericMethod)
            return null;
        (IMethodSymbol method, MethodDeclarationSyntax? syntax) = candidates[0];
        var parser = new Parser(method, syntax!, CacheGenAttributes.Of(method, syntax!, _known), _compilation, includeWarnings: false, _cancellationToken);
        if (parser.DescribeAsTarget(withTags: false) is not { } target)
            return null;
        var varying = parser._usedParameters.Where(p => !_method.Parameters.Any(mine => mine.Name == p.Name && mine.RefKind == RefKind.None
            && SymbolEqualityComparer.Default.Equals(mine.Type, p.Type))).ToList();
        if (varying.Count != 1)
            return null;
        IParameterSymbol key = varying[0];
        var collections = _method.Parameters.Where(p => p.RefKind == RefKind.None && p.Type.SpecialType != SpecialType.System_String
            && IdElement(p.Type, out _) is { } element && SymbolEqualityComparer.Default.Equals(element, key.Type)).ToList();
        if (collections.Count != 1)
            return null;
        return new KeyModel(target.Key, new EachModel(Escape(collections[0].Name), Escape(key.Name), key.Type.ToDisplayString(TypeFormat)));
    }
}
