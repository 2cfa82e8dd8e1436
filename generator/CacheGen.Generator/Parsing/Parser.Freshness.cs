using System.Linq;
using CacheGen.Generator.Diagnostics;
using CacheGen.Generator.Model;
using Microsoft.CodeAnalysis;

namespace CacheGen.Generator.Parsing;

// [Cached]'s freshness arguments, checked: JitterPercent, RefreshAheadPercent and TtlFrom.
internal sealed partial class Parser
{
    private Freshness ParseFreshness(AttributeData attribute, SyntaxNode? attributeSyntax, ITypeSymbol? valueType)
    {
        int jitter = NamedArgument<int?>(attribute, "JitterPercent") ?? 0;
        if (jitter is < 0 or > 99)
        {
            Report(DiagnosticDescriptors.PercentOutOfRange, NamedArgumentSyntax(attributeSyntax, "JitterPercent") ?? attributeSyntax, MethodName,
                $"JitterPercent = {Text(jitter)}; it shortens each entry's lifetime by up to that share, so it is 0 (off) to 99");
            jitter = 0;
        }

        int refreshAhead = NamedArgument<int?>(attribute, "RefreshAheadPercent") ?? 0;
        if (refreshAhead is < 0 or > 99)
        {
            Report(DiagnosticDescriptors.PercentOutOfRange, NamedArgumentSyntax(attributeSyntax, "RefreshAheadPercent") ?? attributeSyntax, MethodName,
                $"RefreshAheadPercent = {Text(refreshAhead)}; it is the share of each entry's lifetime after which a hit refreshes it, so it is 0 (off) to 99");
            refreshAhead = 0;
        }
        else if (refreshAhead > 0)
        {
            WarnOfBackgroundCall(attributeSyntax, "RefreshAheadPercent", "the current value");
        }

        string? ttlFrom = NamedArgument<string>(attribute, "TtlFrom");
        if (ttlFrom is not null)
        {
            SyntaxNode? location = NamedArgumentSyntax(attributeSyntax, "TtlFrom") ?? attributeSyntax;
            int ttl = NamedArgument<int?>(attribute, "TtlSeconds") ?? 0;
            if (ttl != 0)
                Report(DiagnosticDescriptors.TtlFromWithTtlSeconds, location, MethodName, ttlFrom, Text(ttl));
            else if (valueType is not null)
                CheckLifetimeFunction(ttlFrom, valueType, location);
        }
        bool mayBeNull = valueType is not null && MayBeNull(valueType);
        return jitter == 0 && refreshAhead == 0 && ttlFrom is null && !mayBeNull
            ? Freshness.None
            : new Freshness(jitter, ttlFrom, mayBeNull) { RefreshAheadPercent = refreshAhead };
    }

    /// <summary>TtlFrom must name a static <c>TimeSpan M(T)</c> of this type, T the cached value type (the rule of Unless).</summary>
    private void CheckLifetimeFunction(string name, ITypeSymbol valueType, SyntaxNode? location)
    {
        var candidates = _method.ContainingType.GetMembers(name).OfType<IMethodSymbol>().ToList();
        if (candidates.Any(m => m.IsStatic && !m.IsGenericMethod && m.Parameters.Length == 1 && m.Parameters[0].RefKind == RefKind.None
                && SymbolEqualityComparer.Default.Equals(m.Parameters[0].Type, valueType) && IsTimeSpan(m.ReturnType)))
            return;
        IMethodSymbol? first = candidates.FirstOrDefault();
        string why = first is null ? "it names no method of the type"
            : !first.IsStatic ? $"'{name}' is not static"
            : !IsTimeSpan(first.ReturnType) ? $"'{name}' returns '{first.ReturnType.ToDisplayString(MessageFormat)}'"
            : first.IsGenericMethod ? $"'{name}' is generic"
            : $"'{name}' takes ({string.Join(", ", first.Parameters.Select(p => p.Type.ToDisplayString(MessageFormat)))})";
        Report(DiagnosticDescriptors.InvalidTtlFrom, location, name, MethodName, _method.ContainingType.ToDisplayString(MessageFormat),
            valueType.ToDisplayString(MessageFormat), why);
    }

    private static bool IsTimeSpan(ITypeSymbol type) =>
        type is { Name: "TimeSpan", ContainingNamespace: { Name: "System", ContainingNamespace.IsGlobalNamespace: true } };

    private static string Text(int value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
