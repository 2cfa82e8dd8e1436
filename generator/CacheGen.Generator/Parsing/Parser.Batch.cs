using System.Collections.Generic;
using System.Linq;
using System.Threading;
using CacheGen.Generator.Diagnostics;
using CacheGen.Generator.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace CacheGen.Generator.Parsing;

// [CachedBatch]: a method that reads many entries of a [Cached] target, keyed by the one argument of the target's key
// that the batch's collection holds. The target is parsed by its own parser, so keys and tags come from the same code.
internal sealed partial class Parser
{
    // Collections whose element is the id. The first three take the missed ids as they are; the others get a copy.
    private static readonly string[] DirectIdCollections =
    [
        "System.Collections.Generic.IEnumerable<T>",
        "System.Collections.Generic.IReadOnlyCollection<T>",
        "System.Collections.Generic.IReadOnlyList<T>",
    ];

    private static readonly string[] CopiedIdCollections =
    [
        "System.Collections.Generic.ICollection<T>",
        "System.Collections.Generic.IList<T>",
        "System.Collections.Generic.List<T>",
        "System.Collections.Generic.HashSet<T>",
    ];

    private const string SupportedIdCollections =
        "IEnumerable<T>, IReadOnlyCollection<T>, IReadOnlyList<T>, ICollection<T>, IList<T>, List<T>, HashSet<T> or T[]";

    public static BatchParseResult ParseBatch(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        var method = (IMethodSymbol)context.TargetSymbol;
        var syntax = (MethodDeclarationSyntax)context.TargetNode;
        Compilation compilation = context.SemanticModel.Compilation;
        CacheGenAttributes attributes = CacheGenAttributes.Of(method, syntax, KnownTypes.For(compilation));
        var parser = new Parser(method, syntax, attributes, compilation, includeWarnings: false, cancellationToken);
        return parser.ParseBatch(context.Attributes[0]);
    }

    private BatchParseResult ParseBatch(AttributeData attribute)
    {
        // The [Cached] step implements it (as a cached dictionary): only say why that is wrong.
        if (_attributes.Cached is not null)
        {
            Report(DiagnosticDescriptors.BatchIsCached, _syntax.Identifier, MethodName);
            return BatchResult(null);
        }
        if (!CheckDeclaration() || MentionsErrorType())
            return BatchResult(null);

        ReturnShape? shape = ClassifyReturn(out string? resultType);
        CheckParameters();
        string coreName = KnownNames.CoreNameOf(MethodName);
        CheckCoreMethod(coreName);
        string cacheExpression = FindHybridCache();
        BatchModel? batch = DescribeBatch(attribute, shape, out CachedModel? cached);
        if (_metErrorType)
            return BatchResult(null);
        MethodModel method = MethodModelOf(shape, resultType, coreName, cacheExpression, cached, invalidation: null, emitErrorStub: false);
        if (batch is null || _hasErrors)
        {
            // A body that throws, so the declaration is implemented and only the CG errors show.
            _hasErrors = true;
            return BatchResult(new BatchModel(method with { EmitErrorStub = true, Cached = null }, "", "", "", false, EquatableArray<BatchKeyParameter>.Empty, false));
        }
        return BatchResult(batch with { Method = method });
    }

    private BatchParseResult BatchResult(BatchModel? model) => new(model, _diagnostics.Where(static d => d.IsError()).ToEquatableArray());

    /// <summary>The batch's mapping onto its target, or null (reported) when it has none.</summary>
    private BatchModel? DescribeBatch(AttributeData attribute, ReturnShape? shape, out CachedModel? cached)
    {
        cached = null;
        SyntaxNode? attributeSyntax = attribute.ApplicationSyntaxReference?.GetSyntax(_cancellationToken);
        SyntaxNode? location = ArgumentSyntax(attributeSyntax, 0) ?? attributeSyntax;
        string name = attribute.ConstructorArguments.Length > 0 ? attribute.ConstructorArguments[0].Value as string ?? "" : "";
        string typeName = _method.ContainingType.ToDisplayString(MessageFormat);

        var candidates = new List<(IMethodSymbol Method, MethodDeclarationSyntax Syntax, CacheGenAttributes Attributes)>();
        foreach (IMethodSymbol member in _method.ContainingType.GetMembers(name).OfType<IMethodSymbol>())
        {
            foreach (SyntaxReference reference in member.DeclaringSyntaxReferences)
            {
                if (reference.GetSyntax(_cancellationToken) is MethodDeclarationSyntax syntax
                    && CacheGenAttributes.Of(member, syntax, _known) is { Cached: not null } attributes)
                    candidates.Add((member, syntax, attributes));
            }
        }
        if (candidates.Count != 1)
        {
            string why = candidates.Count > 1 ? $"which has {candidates.Count} [Cached] overloads in '{typeName}'; give the one to batch a name of its own"
                : _method.ContainingType.GetMembers(name).OfType<IMethodSymbol>().Any() ? $"which is not a [Cached] method; mark it [Cached] or name the [Cached] method of '{typeName}' to read"
                : $"and '{typeName}' has no such method; name a [Cached] method of the type, with nameof";
            Report(DiagnosticDescriptors.BatchTargetNotCached, location, MethodName, name, why);
            return null;
        }

        (IMethodSymbol targetMethod, MethodDeclarationSyntax targetSyntax, CacheGenAttributes targetAttributes) = candidates[0];
        var targetParser = new Parser(targetMethod, targetSyntax, targetAttributes, _compilation, includeWarnings: false, _cancellationToken);
        // A target with errors of its own has them reported where it is declared; this method gets a throwing body.
        if (targetParser.DescribeAsTarget(withTags: true) is not { } target)
        {
            _hasErrors = true;
            return null;
        }
        if (targetMethod.IsGenericMethod)
        {
            Report(DiagnosticDescriptors.BatchKeyArgumentCount, location, MethodName, name, "depends on type arguments (the method is generic)");
            return null;
        }

        // Each parameter the target's key and tags use is passed as it is (a parameter of this method with the same name
        // and type) or varies per id: exactly one may vary, and it must be part of the key.
        var used = new List<IParameterSymbol>();
        foreach (IParameterSymbol parameter in targetParser._usedParameters)
        {
            if (!used.Any(u => u.Name == parameter.Name))
                used.Add(parameter);
        }
        var passed = new List<IParameterSymbol>();
        var varying = new List<IParameterSymbol>();
        foreach (IParameterSymbol parameter in used)
        {
            IParameterSymbol? mine = _method.Parameters.FirstOrDefault(p => p.Name == parameter.Name && p.RefKind == RefKind.None
                && SymbolEqualityComparer.Default.Equals(p.Type, parameter.Type));
            if (mine is null)
                varying.Add(parameter);
            else
                passed.Add(mine);
        }
        bool varyingInKey = varying.Count == 1 && targetParser._usedParameters.Take(targetParser._keyParameterCount).Any(p => p.Name == varying[0].Name);
        if (!varyingInKey)
        {
            string why = varying.Count == 1 ? $"does not use '{varying[0].Name}', which only its tags use"
                : varying.Count > 1 ? $"uses {varying.Count} arguments '{MethodName}' does not pass as they are ({string.Join(", ", varying.Select(p => "'" + p.Name + "'"))})"
                : used.Count == 0 ? "has no argument"
                : $"uses only arguments '{MethodName}' passes as they are ({string.Join(", ", used.Select(p => "'" + p.Name + "'"))})";
            Report(DiagnosticDescriptors.BatchKeyArgumentCount, location, MethodName, name, why);
            return null;
        }
        IParameterSymbol keyArgument = varying[0];
        string keyType = keyArgument.Type.ToDisplayString(MessageFormat);

        // The ids: the one parameter left once the passed ones and CancellationTokens are set aside.
        var rest = _method.Parameters.Where(p => !IsCancellationToken(p.Type) && !passed.Contains(p, SymbolEqualityComparer.Default)).ToList();
        if (rest.Count != 1)
        {
            string why = rest.Count == 0 ? "it has no parameter for the ids"
                : $"its parameter '{rest[1].Name}' is neither the ids nor a parameter of '{name}' (same name and type)";
            Report(DiagnosticDescriptors.BatchIdTypeMismatch, rest.Count == 0 ? _syntax.ParameterList : ParameterSyntax(_method.Parameters.IndexOf(rest[1])),
                MethodName, name, keyArgument.Name, keyType, why);
            return null;
        }
        IParameterSymbol ids = rest[0];
        SyntaxNode? idsSyntax = ParameterSyntax(_method.Parameters.IndexOf(ids));
        if (IdElement(ids.Type, out bool copied) is not { } element)
        {
            Report(DiagnosticDescriptors.BatchUnsupportedType, idsSyntax, MethodName,
                $"takes its ids as '{ids.Type.ToDisplayString(MessageFormat)}', which is not a collection a batch can take: use {SupportedIdCollections}");
            return null;
        }
        if (!SymbolEqualityComparer.Default.Equals(element, keyArgument.Type))
        {
            Report(DiagnosticDescriptors.BatchIdTypeMismatch, idsSyntax, MethodName, name, keyArgument.Name, keyType,
                $"its ids '{ids.Name}' are of type '{element.ToDisplayString(MessageFormat)}'");
            return null;
        }

        // The result: a dictionary from the id to the very value the target caches.
        INamedTypeSymbol? dictionary = shape is ReturnShape.TaskOfT or ReturnShape.ValueTaskOfT ? CachedValueType(shape.Value) as INamedTypeSymbol : null;
        string? dictionaryName = dictionary?.OriginalDefinition.ToDisplayString();
        if (dictionary is null || dictionaryName is not ("System.Collections.Generic.IReadOnlyDictionary<TKey, TValue>" or "System.Collections.Generic.Dictionary<TKey, TValue>"))
        {
            Report(DiagnosticDescriptors.BatchUnsupportedType, shape is ReturnShape.TaskOfT or ReturnShape.ValueTaskOfT ? CachedValueSyntax(shape.Value) : _syntax.ReturnType,
                MethodName, $"returns '{_method.ReturnType.ToDisplayString(MessageFormat)}': a batch returns Task<IReadOnlyDictionary<{keyType}, T>> or ValueTask<...> (or a Dictionary<{keyType}, T>)");
            return null;
        }
        ITypeSymbol resultKey = dictionary.TypeArguments[0];
        ITypeSymbol resultValue = dictionary.TypeArguments[1];
        if (!SymbolEqualityComparer.Default.Equals(resultKey, keyArgument.Type))
        {
            Report(DiagnosticDescriptors.BatchIdTypeMismatch, CachedValueSyntax(shape!.Value), MethodName, name, keyArgument.Name, keyType,
                $"its result is keyed by '{resultKey.ToDisplayString(MessageFormat)}'");
            return null;
        }
        if (target.ValueType is null || !SymbolEqualityComparer.Default.Equals(resultValue, target.ValueType))
        {
            Report(DiagnosticDescriptors.BatchValueTypeMismatch, CachedValueSyntax(shape!.Value), MethodName, resultValue.ToDisplayString(MessageFormat), name,
                target.ValueType?.ToDisplayString(MessageFormat) ?? "?");
            return null;
        }

        // What only each value decides (its lifetime, its tags) is applied by the single read's fill, not yet by a batch's.
        string? fromValue = target.Resilience.Freshness.TtlFrom is { } ttlFrom ? $"TtlFrom = \"{ttlFrom}\""
            : target.Tags.Any(t => t.FromResult) ? "tags from the result ({result...})" : null;
        if (fromValue is not null)
        {
            Report(DiagnosticDescriptors.BatchTargetDecidesFromValue, location, MethodName, name, fromValue);
            return null;
        }

        cached = new CachedModel(target.Region, target.Key, target.TtlSeconds, target.Tags, target.Label, target.Resilience, target.Shape);
        return new BatchModel(
            Method: null!,
            Ids: Escape(ids.Name),
            IdType: keyArgument.Type.ToDisplayString(TypeFormat),
            ValueType: resultValue.ToDisplayString(TypeFormat),
            IdsConversion: copied,
            KeyParameters: used.Select(p => new BatchKeyParameter(Escape(p.Name), p.Type.ToDisplayString(TypeFormat), SymbolEqualityComparer.Default.Equals(p, keyArgument)))
                .ToEquatableArray(),
            ReturnsDictionary: dictionaryName == "System.Collections.Generic.Dictionary<TKey, TValue>");
    }

    /// <summary>The element of a collection a batch can take its ids as, and whether the core gets a copy of the missed ids.</summary>
    private static ITypeSymbol? IdElement(ITypeSymbol type, out bool copied)
    {
        copied = true;
        if (type is IArrayTypeSymbol { Rank: 1 } array)
            return array.ElementType;
        if (type is not INamedTypeSymbol { IsGenericType: true, TypeArguments.Length: 1 } named)
            return null;
        string definition = named.OriginalDefinition.ToDisplayString();
        copied = !DirectIdCollections.Contains(definition);
        return copied && !CopiedIdCollections.Contains(definition) ? null : named.TypeArguments[0];
    }
}
