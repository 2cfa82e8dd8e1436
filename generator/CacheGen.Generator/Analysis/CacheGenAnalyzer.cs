using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Linq;
using CacheGen.Generator.Diagnostics;
using CacheGen.Generator.Model;
using CacheGen.Generator.Parsing;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;

namespace CacheGen.Generator.Analysis;

/// <summary>
/// Reports every CGxxxx diagnostic. It runs the generator's own <see cref="Parser"/> on each attributed method, so the
/// generator and the analyzer cannot disagree, and the generator stays a pure model-to-source pipeline. Being an
/// analyzer, its diagnostics get code fixes, <c>#pragma</c> and editorconfig severities like any other.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class CacheGenAnalyzer : DiagnosticAnalyzer
{
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics => DiagnosticDescriptors.All;

    public override void Initialize(AnalysisContext context)
    {
        // A partial method's attributes are merged, so once CacheGen has written the implementation the user's own
        // declaration carries [GeneratedCode] too and counts as generated code: analyze it anyway, and skip our output.
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.Analyze | GeneratedCodeAnalysisFlags.ReportDiagnostics);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(static start =>
        {
            INamedTypeSymbol? cached = start.Compilation.GetTypeByMetadataName(AttributeNames.Cached);
            INamedTypeSymbol? invalidates = start.Compilation.GetTypeByMetadataName(AttributeNames.InvalidatesCache);
            if (cached is null && invalidates is null)
                return; // CacheGen is not referenced: nothing to check

            var regions = new ConcurrentBag<RegionUse>();
            start.RegisterSyntaxNodeAction(node => AnalyzeMethod(node, cached, invalidates, regions), SyntaxKind.MethodDeclaration);
            start.RegisterSyntaxNodeAction(node => AnalyzeType(node, cached, invalidates),
                SyntaxKind.ClassDeclaration, SyntaxKind.StructDeclaration, SyntaxKind.RecordDeclaration, SyntaxKind.RecordStructDeclaration, SyntaxKind.InterfaceDeclaration);
            start.RegisterCompilationEndAction(end => ReportUnusedRegions(end, regions));
        });
    }

    private static void AnalyzeMethod(SyntaxNodeAnalysisContext context, INamedTypeSymbol? cached, INamedTypeSymbol? invalidates, ConcurrentBag<RegionUse> regions)
    {
        var syntax = (MethodDeclarationSyntax)context.Node;
        if (syntax.AttributeLists.Count == 0 || Parser.IsGeneratedByCacheGen(syntax) || context.SemanticModel.GetDeclaredSymbol(syntax, context.CancellationToken) is not { } method)
            return;

        (AttributeData? cachedAttribute, AttributeData? invalidatesAttribute) = CacheGenAttributesOf(method, syntax, cached, invalidates);

        if (cachedAttribute is not null)
            Report(Parser.Parse(method, syntax, cachedAttribute, isCached: true, context.Compilation, context.CancellationToken));
        if (invalidatesAttribute is not null)
            Report(Parser.Parse(method, syntax, invalidatesAttribute, isCached: false, context.Compilation, context.CancellationToken));

        void Report(ParseResult result)
        {
            foreach (DiagnosticInfo diagnostic in result.Diagnostics)
            {
                // Reported once per type by AnalyzeType, where it is local to the type (so its code fix applies).
                if (diagnostic.Descriptor != DiagnosticDescriptors.ContainingTypeNotPartial)
                    context.ReportDiagnostic(diagnostic.ToDiagnostic());
            }
            foreach (RegionUse use in result.Regions)
                regions.Add(use);
        }
    }

    /// <summary>Like the generator's ForAttributeWithMetadataName: only attributes written on this declaration count.</summary>
    private static (AttributeData? Cached, AttributeData? Invalidates) CacheGenAttributesOf(IMethodSymbol method, MethodDeclarationSyntax syntax,
        INamedTypeSymbol? cached, INamedTypeSymbol? invalidates)
    {
        AttributeData? cachedAttribute = null;
        AttributeData? invalidatesAttribute = null;
        foreach (AttributeData attribute in method.GetAttributes())
        {
            if (attribute.ApplicationSyntaxReference is not { } reference || reference.SyntaxTree != syntax.SyntaxTree || !syntax.Span.Contains(reference.Span))
                continue;
            if (cachedAttribute is null && SymbolEqualityComparer.Default.Equals(attribute.AttributeClass, cached))
                cachedAttribute = attribute;
            else if (invalidatesAttribute is null && SymbolEqualityComparer.Default.Equals(attribute.AttributeClass, invalidates))
                invalidatesAttribute = attribute;
        }
        return (cachedAttribute, invalidatesAttribute);
    }

    /// <summary>CG0002, once per type that is not partial but holds (at any depth) a CacheGen method.</summary>
    private static void AnalyzeType(SyntaxNodeAnalysisContext context, INamedTypeSymbol? cached, INamedTypeSymbol? invalidates)
    {
        var type = (TypeDeclarationSyntax)context.Node;
        if (type.Modifiers.Any(SyntaxKind.PartialKeyword))
            return;
        foreach (MethodDeclarationSyntax method in type.DescendantNodes().OfType<MethodDeclarationSyntax>())
        {
            if (method.AttributeLists.Count == 0 || method.Parent is not TypeDeclarationSyntax
                || context.SemanticModel.GetDeclaredSymbol(method, context.CancellationToken) is not { } symbol)
                continue;
            (AttributeData? c, AttributeData? i) = CacheGenAttributesOf(symbol, method, cached, invalidates);
            if (c is null && i is null)
                continue;
            context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.ContainingTypeNotPartial, type.Identifier.GetLocation(),
                type.Identifier.ValueText, method.Identifier.ValueText));
            return;
        }
    }

    /// <summary>An evicted region that no <c>[Cached]</c> method of the compilation uses is most likely a typo.</summary>
    private static void ReportUnusedRegions(CompilationAnalysisContext context, ConcurrentBag<RegionUse> regions)
    {
        var cachedRegions = regions.Where(r => r.IsCached).Select(r => r.Region).ToImmutableHashSet();
        foreach (RegionUse use in regions.Where(r => !r.IsCached && !cachedRegions.Contains(r.Region)).OrderBy(r => r.Location?.Span.Start ?? 0))
            context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.UnusedRegion, use.Location?.ToLocation(), use.Region));
    }
}
