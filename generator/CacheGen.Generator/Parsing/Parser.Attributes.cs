using System.Collections.Generic;
using System.Linq;
using CacheGen.Generator.Diagnostics;
using CacheGen.Generator.Model;
using Microsoft.CodeAnalysis;

namespace CacheGen.Generator.Parsing;

// [Cached]'s arguments read into a CachedModel: TTLs, resilience, Unless and the background-call context.
internal sealed partial class Parser
{
    private CachedModel ParseCachedAttribute(AttributeData attribute, ITypeSymbol? valueType)
    {
        string? region = attribute.ConstructorArguments.Length > 0 ? attribute.ConstructorArguments[0].Value as string : null;
        string? template = NamedArgument<string>(attribute, "Key");
        int ttl = NamedArgument<int?>(attribute, "TtlSeconds") ?? 0;
        SyntaxNode? attributeSyntax = attribute.ApplicationSyntaxReference?.GetSyntax(_cancellationToken);

        CheckRegion(region, ArgumentSyntax(attributeSyntax, 0) ?? attributeSyntax);
        _regions.Add(new RegionUse(region ?? "", IsCached: true, null));
        if (ttl < 0)
            Report(DiagnosticDescriptors.NegativeTtl, NamedArgumentSyntax(attributeSyntax, "TtlSeconds") ?? attributeSyntax, MethodName, ttl.ToString(System.Globalization.CultureInfo.InvariantCulture));

        SyntaxNode? keySyntax = NamedArgumentSyntax(attributeSyntax, "Key") ?? attributeSyntax;
        EquatableArray<KeyPart> key;
        if (template is null)
            key = DefaultKey(region ?? "", keySyntax);
        else
        {
            _inCachedKey = true;
            key = TemplateKey(region ?? "", template, keySyntax, out string? signature);
            _inCachedKey = false;
            if (signature is not null)
                _templates.Add(new TemplateDeclaration(IsTag: false, region ?? "", signature));
        }

        _keyParameterCount = _usedParameters.Count;
        var tags = new List<TagModel>();
        // {result...} placeholders name the cached value here (Parser.ResultTags.cs).
        _resultRoot = valueType;
        foreach ((TagModel parsed, string tagTemplate, SyntaxNode? tagLocation) in ParseTags(attribute, attributeSyntax))
        {
            if (ValueTag(parsed, tagTemplate, tagLocation) is not { } tag)
                continue;
            tags.Add(tag);
            _templates.Add(new TemplateDeclaration(IsTag: true, region ?? "", tag.Signature, tag.FromResult));
        }
        _resultRoot = null;
        return new CachedModel(region ?? "", key, ttl, tags.ToEquatableArray(), _method.ToDisplayString(LabelFormat),
            ParseResilience(attribute, attributeSyntax, valueType), valueType is null ? "" : ShapeFingerprint.Of(valueType));
    }

    /// <summary>StaleSeconds, TimeoutMilliseconds, CacheNull and Unless, checked.</summary>
    private Resilience ParseResilience(AttributeData attribute, SyntaxNode? attributeSyntax, ITypeSymbol? valueType)
    {
        int stale = NamedArgument<int?>(attribute, "StaleSeconds") ?? 0;
        int timeout = NamedArgument<int?>(attribute, "TimeoutMilliseconds") ?? 0;
        bool cacheNull = NamedArgument<bool?>(attribute, "CacheNull") ?? true;
        string? unless = NamedArgument<string>(attribute, "Unless");
        string Text(int value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (stale < 0)
            Report(DiagnosticDescriptors.InvalidResilience, NamedArgumentSyntax(attributeSyntax, "StaleSeconds") ?? attributeSyntax, MethodName,
                $"StaleSeconds = {Text(stale)}; a stale window must not be negative");
        if (timeout < 0)
            Report(DiagnosticDescriptors.InvalidResilience, NamedArgumentSyntax(attributeSyntax, "TimeoutMilliseconds") ?? attributeSyntax, MethodName,
                $"TimeoutMilliseconds = {Text(timeout)}; a timeout must not be negative");
        else if (timeout > 0 && stale <= 0)
            Report(DiagnosticDescriptors.InvalidResilience, NamedArgumentSyntax(attributeSyntax, "TimeoutMilliseconds") ?? attributeSyntax, MethodName,
                $"TimeoutMilliseconds = {Text(timeout)} without StaleSeconds; the timeout answers with an expired value, so it needs a stale window (set StaleSeconds too)");
        if (unless is not null && valueType is not null)
            CheckUnless(unless, valueType, NamedArgumentSyntax(attributeSyntax, "Unless") ?? attributeSyntax);
        if (timeout > 0)
            WarnOfBackgroundCall(attributeSyntax, "TimeoutMilliseconds", "an expired value");
        return new Resilience(stale, timeout, cacheNull, unless) { Freshness = ParseFreshness(attribute, attributeSyntax, valueType) };
    }

    /// <summary>Unless must name a static <c>bool M(T)</c> of this type, T the cached value type.</summary>
    private void CheckUnless(string name, ITypeSymbol valueType, SyntaxNode? location)
    {
        var candidates = _method.ContainingType.GetMembers(name).OfType<IMethodSymbol>().ToList();
        if (candidates.Any(m => m.IsStatic && !m.IsGenericMethod && m.Parameters.Length == 1 && m.Parameters[0].RefKind == RefKind.None
                && SymbolEqualityComparer.Default.Equals(m.Parameters[0].Type, valueType) && m.ReturnType.SpecialType == SpecialType.System_Boolean))
            return;
        IMethodSymbol? first = candidates.FirstOrDefault();
        string why = first is null ? "it names no method of the type"
            : !first.IsStatic ? $"'{name}' is not static"
            : first.ReturnType.SpecialType != SpecialType.System_Boolean ? $"'{name}' returns '{first.ReturnType.ToDisplayString(MessageFormat)}'"
            : $"'{name}' takes ({string.Join(", ", first.Parameters.Select(p => p.Type.ToDisplayString(MessageFormat)))})";
        Report(DiagnosticDescriptors.InvalidUnlessPredicate, location, name, MethodName, _method.ContainingType.ToDisplayString(MessageFormat),
            valueType.ToDisplayString(MessageFormat), why);
    }

    /// <summary>
    /// CG0033, at <paramref name="argument"/>: the argument makes the core method run after its caller left (a soft
    /// timeout's fill, a refresh ahead), on the state of a type whose constructor takes a scoped DbContext.
    /// </summary>
    private void WarnOfBackgroundCall(SyntaxNode? attributeSyntax, string argument, string callerGot)
    {
        if (_includeWarnings && ScopedContextParameter() is { } context)
            Report(DiagnosticDescriptors.BackgroundFillUsesScopedContext, NamedArgumentSyntax(attributeSyntax, argument) ?? attributeSyntax,
                argument, MethodName, callerGot, _method.ContainingType.ToDisplayString(MessageFormat), context.ToDisplayString(MessageFormat));
    }

    /// <summary>A constructor parameter of the containing type that is an EF Core DbContext (scoped in ASP.NET Core), if any.</summary>
    private ITypeSymbol? ScopedContextParameter()
    {
        foreach (IMethodSymbol constructor in _method.ContainingType.InstanceConstructors)
        {
            foreach (IParameterSymbol parameter in constructor.Parameters)
            {
                for (ITypeSymbol? type = parameter.Type; type is not null; type = type.BaseType)
                {
                    if (type is { Name: "DbContext", ContainingNamespace: { Name: "EntityFrameworkCore", ContainingNamespace: { Name: "Microsoft", ContainingNamespace.IsGlobalNamespace: true } } })
                        return parameter.Type;
                }
            }
        }
        return null;
    }
}
