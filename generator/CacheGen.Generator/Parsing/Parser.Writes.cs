using System.Collections.Generic;
using System.Linq;
using CacheGen.Generator.Diagnostics;
using CacheGen.Generator.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace CacheGen.Generator.Parsing;

// [InvalidatesCache] and [UpdatesCache]: the regions and cached methods a writing method reaches, and what it passes them.
internal sealed partial class Parser
{
    /// <summary>Every <c>[InvalidatesCache]</c> of the method, and its <c>[UpdatesCache]</c>: what to do after the core method returns.</summary>
    private InvalidationModel ParseWrites(ReturnShape? shape)
    {
        var regions = new List<string>();
        var keys = new List<KeyModel>();
        var tags = new List<TagEviction>();
        foreach (AttributeData attribute in _attributes.Invalidates)
        {
            SyntaxNode? attributeSyntax = attribute.ApplicationSyntaxReference?.GetSyntax(_cancellationToken);
            var named = new List<string>();
            if (attribute.ConstructorArguments.Length > 0)
            {
                TypedConstant argument = attribute.ConstructorArguments[0];
                IEnumerable<TypedConstant> values = argument.Kind == TypedConstantKind.Array ? argument.Values : new[] { argument };
                int index = 0;
                foreach (TypedConstant value in values)
                {
                    string? region = value.Value as string;
                    SyntaxNode? location = ArgumentSyntax(attributeSyntax, index++) ?? attributeSyntax;
                    if (CheckRegion(region, location))
                        _regions.Add(new RegionUse(region!, IsCached: false, LocationInfo.From(location)));
                    named.Add(region ?? "");
                }
            }
            string? template = NamedArgument<string>(attribute, "Key");
            string? target = NamedArgument<string>(attribute, "Method");
            bool hasTags = NamedArgumentConstant(attribute, "Tags") is { IsNull: false, Values.Length: > 0 };
            if (named.Count == 0 && template is null && target is null && !hasTags)
            {
                Report(DiagnosticDescriptors.NothingToEvict, attributeSyntax, MethodName);
                continue;
            }

            if (template is null)
                regions.AddRange(named);
            else
            {
                // With a Key, the region only says where the key lives: the one entry is evicted, not the region.
                SyntaxNode? keySyntax = NamedArgumentSyntax(attributeSyntax, "Key") ?? attributeSyntax;
                if (named.Count != 1)
                    Report(DiagnosticDescriptors.KeyNeedsSingleRegion, keySyntax, MethodName, named.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
                keys.Add(new KeyModel(TemplateKey(named.FirstOrDefault() ?? "", template, keySyntax, out string? signature), TakeEach()));
                if (named.Count == 1 && signature is not null)
                    _keyUses.Add(new KeyTemplateUse(named[0], signature, template, MethodName, LocationInfo.From(keySyntax)));
            }
            foreach ((TagModel tag, string text, SyntaxNode? location) in ParseTags(attribute, attributeSyntax))
                tags.Add(new TagEviction(tag, text, LocationInfo.From(location), EquatableArray<string>.Empty));
            if (target is not null)
            {
                SyntaxNode? location = NamedArgumentSyntax(attributeSyntax, "Method") ?? attributeSyntax;
                if (CollectionTargetKey(target) is { } many)
                    keys.Add(many);
                else
                {
                    foreach (CachedTarget cached in FindTargets(target, location, "InvalidatesCache(Method = ...)", withTags: false))
                        keys.Add(new KeyModel(cached.Key));
                }
            }
        }

        UpdateModel? update = _attributes.Updates is { } updates ? ParseUpdate(updates, shape) : null;
        return new InvalidationModel(regions.Distinct().ToEquatableArray(), keys.Distinct().ToEquatableArray(), tags.ToEquatableArray(), update);
    }

    private UpdateModel? ParseUpdate(AttributeData attribute, ReturnShape? shape)
    {
        SyntaxNode? attributeSyntax = attribute.ApplicationSyntaxReference?.GetSyntax(_cancellationToken);
        SyntaxNode? location = ArgumentSyntax(attributeSyntax, 0) ?? attributeSyntax;
        string name = attribute.ConstructorArguments.Length > 0 ? attribute.ConstructorArguments[0].Value as string ?? "" : "";
        List<CachedTarget> targets = FindTargets(name, location, "UpdatesCache", withTags: true);
        if (targets.Count == 0)
            return null;
        if (targets.Count > 1)
        {
            Report(DiagnosticDescriptors.CachedMethodArgumentMissing, location, "UpdatesCache", MethodName, name,
                $"{targets.Count} overloads of '{name}' can be built from its arguments, and a result is stored as one entry; give them different names");
            return null;
        }
        CachedTarget target = targets[0];
        ITypeSymbol? result = shape is { } known ? CachedValueType(known) : null;
        if (result is null || target.ValueType is null || !SymbolEqualityComparer.Default.Equals(result, target.ValueType))
        {
            Report(DiagnosticDescriptors.UpdateResultTypeMismatch, location, MethodName, name, target.ValueType?.ToDisplayString(MessageFormat) ?? "?",
                result is null ? "no value" : $"'{result.ToDisplayString(MessageFormat)}'");
            return null;
        }
        return new UpdateModel(target.Label, target.Region, target.TtlSeconds, target.Key, target.Tags, target.Resilience, target.Shape);
    }

    /// <summary>
    /// The <c>[Cached]</c> methods of this type named <paramref name="name"/> whose key (and, <paramref name="withTags"/>,
    /// tags) this method's parameters can build: same names, same types. Each is parsed by its own parser, so the key
    /// is made by the same code, from the same template, as in the cached method itself.
    /// </summary>
    private List<CachedTarget> FindTargets(string name, SyntaxNode? location, string attributeText, bool withTags)
    {
        var targets = new List<CachedTarget>();
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
        if (candidates.Count == 0)
        {
            Report(DiagnosticDescriptors.UnknownCachedMethod, location, attributeText, MethodName, name, _method.ContainingType.ToDisplayString(MessageFormat));
            return targets;
        }

        string? problem = null;
        foreach ((IMethodSymbol method, MethodDeclarationSyntax syntax, CacheGenAttributes attributes) in candidates)
        {
            var parser = new Parser(method, syntax, attributes, _compilation, includeWarnings: false, _cancellationToken);
            // A cached method with errors of its own has them reported where it is declared.
            if (parser.DescribeAsTarget(withTags) is not { } target)
                continue;
            string? mismatch = method.IsGenericMethod
                ? $"'{name}' is generic, so its key depends on type arguments that '{MethodName}' does not have"
                : MissingParameter(parser._usedParameters, withTags);
            if (mismatch is null)
                targets.Add(target);
            else
                problem ??= mismatch;
        }
        if (targets.Count == 0 && problem is not null)
            Report(DiagnosticDescriptors.CachedMethodArgumentMissing, location, attributeText, MethodName, name, problem);
        return targets;
    }

    /// <summary>What this method lacks of the parameters a cached method builds its entry from, or null.</summary>
    private string? MissingParameter(List<IParameterSymbol> used, bool withTags)
    {
        foreach (IParameterSymbol parameter in used)
        {
            IParameterSymbol? mine = _method.Parameters.FirstOrDefault(p => p.Name == parameter.Name);
            if (mine is null || mine.RefKind != RefKind.None || !SymbolEqualityComparer.Default.Equals(mine.Type, parameter.Type))
                return $"its {(withTags ? "key or tags use" : "key uses")} parameter '{parameter.Name}' ({parameter.Type.ToDisplayString(MessageFormat)}), and '{MethodName}' has no parameter '{parameter.Name}' of that type";
        }
        return null;
    }

    /// <summary>This [Cached] method as the target of a typed eviction or a write-through, or null if it has errors.</summary>
    private CachedTarget? DescribeAsTarget(bool withTags)
    {
        ReturnShape? shape = ClassifyReturn(out _);
        CachedModel cached = ParseCachedAttribute(_attributes.Cached!, shape is { } known ? CachedValueType(known) : null);
        if (!withTags)
            _usedParameters.RemoveRange(_keyParameterCount, _usedParameters.Count - _keyParameterCount);
        if (_hasErrors || _metErrorType)
            return null;
        return new CachedTarget(cached.MethodName, cached.Region, cached.TtlSeconds, cached.Key, cached.Tags, shape is { } result ? CachedValueType(result) : null,
            cached.Resilience, cached.Shape);
    }
}
