using System.Collections.Concurrent;
using System.Collections.Generic;
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
/// Reports CacheGen's warnings. It runs the generator's own <see cref="Parser"/> on each attributed method, so the
/// two cannot disagree. Errors are the generator's to report (<see cref="CacheGenerator"/> says why), so this
/// analyzer reports nothing of error severity and no diagnostic appears twice.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class CacheGenAnalyzer : DiagnosticAnalyzer
{
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics => DiagnosticDescriptors.Warnings;

    public override void Initialize(AnalysisContext context)
    {
        // A partial method's attributes are merged, so once CacheGen has written the implementation the user's own
        // declaration carries [GeneratedCode] too and counts as generated code: analyze it anyway, and skip our output.
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.Analyze | GeneratedCodeAnalysisFlags.ReportDiagnostics);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(static start =>
        {
            INamedTypeSymbol? cached = start.Compilation.GetTypeByMetadataName(KnownNames.CachedAttribute);
            INamedTypeSymbol? invalidates = start.Compilation.GetTypeByMetadataName(KnownNames.InvalidatesCacheAttribute);
            if (cached is null && invalidates is null)
                return; // CacheGen is not referenced: nothing to check

            var regions = new ConcurrentBag<RegionUse>();
            EntityTypes? entities = EntityTypes.For(start.Compilation);
            start.RegisterSyntaxNodeAction(node => AnalyzeMethod(node, cached, invalidates, regions, entities), SyntaxKind.MethodDeclaration);
            start.RegisterCompilationEndAction(end => ReportUnusedRegions(end, regions));
        });
    }

    private static void AnalyzeMethod(SyntaxNodeAnalysisContext context, INamedTypeSymbol? cached, INamedTypeSymbol? invalidates,
        ConcurrentBag<RegionUse> regions, EntityTypes? entities)
    {
        var syntax = (MethodDeclarationSyntax)context.Node;
        if (syntax.AttributeLists.Count == 0 || Parser.IsGeneratedByCacheGen(syntax) || context.SemanticModel.GetDeclaredSymbol(syntax, context.CancellationToken) is not { } method)
            return;

        (AttributeData? cachedAttribute, AttributeData? invalidatesAttribute) = CacheGenAttributesOf(method, syntax, cached, invalidates);
        var trees = new Dictionary<string, SyntaxTree> { [syntax.SyntaxTree.FilePath] = syntax.SyntaxTree };

        if (cachedAttribute is not null)
        {
            Report(Parser.Parse(method, syntax, cachedAttribute, isCached: true, includeWarnings: true, context.Compilation, context.CancellationToken));
            if (entities?.Find(method.ReturnType) is { } entity)
                context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.CachedEntityType, syntax.ReturnType.GetLocation(),
                    method.Name, entity.Type.ToDisplayString(SymbolDisplayFormat.MinimallyQualifiedFormat), entity.Context.Name));
        }
        if (invalidatesAttribute is not null)
            Report(Parser.Parse(method, syntax, invalidatesAttribute, isCached: false, includeWarnings: true, context.Compilation, context.CancellationToken));

        void Report(ParseResult result)
        {
            foreach (DiagnosticInfo diagnostic in result.Diagnostics)
            {
                if (!diagnostic.IsError())
                    context.ReportDiagnostic(diagnostic.ToDiagnostic(trees));
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

    /// <summary>An evicted region that no <c>[Cached]</c> method of the compilation uses is most likely a typo.</summary>
    private static void ReportUnusedRegions(CompilationAnalysisContext context, ConcurrentBag<RegionUse> regions)
    {
        var cachedRegions = regions.Where(r => r.IsCached).Select(r => r.Region).ToImmutableHashSet();
        var trees = new Dictionary<string, SyntaxTree>();
        foreach (SyntaxTree tree in context.Compilation.SyntaxTrees)
            trees[tree.FilePath] = tree;
        foreach (RegionUse use in regions.Where(r => !r.IsCached && !cachedRegions.Contains(r.Region)).OrderBy(r => r.Location?.FilePath, System.StringComparer.Ordinal).ThenBy(r => r.Location?.Span.Start ?? 0))
            context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.UnusedRegion, use.Location?.ToLocation(trees), use.Region));
    }
}
