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
            if (start.Compilation.GetTypeByMetadataName(KnownNames.CachedAttribute) is null)
                return; // CacheGen is not referenced: nothing to check

            var uses = new CompilationUses();
            EntityTypes? entities = EntityTypes.For(start.Compilation);
            start.RegisterSyntaxNodeAction(node => AnalyzeMethod(node, uses, entities), SyntaxKind.MethodDeclaration);
            start.RegisterCompilationEndAction(end => ReportCrossMethodWarnings(end, uses));
            AppRegistrations.Register(start);
        });
    }

    /// <summary>What every method of the compilation uses, for the checks that compare one method with all the others.</summary>
    private sealed class CompilationUses
    {
        public ConcurrentBag<RegionUse> Regions { get; } = new();
        public ConcurrentBag<TemplateDeclaration> Templates { get; } = new();
        public ConcurrentBag<KeyTemplateUse> KeyUses { get; } = new();
    }

    private static void AnalyzeMethod(SyntaxNodeAnalysisContext context, CompilationUses uses, EntityTypes? entities)
    {
        var syntax = (MethodDeclarationSyntax)context.Node;
        if (syntax.AttributeLists.Count == 0 || Parser.IsGeneratedByCacheGen(syntax) || context.SemanticModel.GetDeclaredSymbol(syntax, context.CancellationToken) is not { } method)
            return;

        ParseResult result = Parser.Parse(method, syntax, includeWarnings: true, context.Compilation, context.CancellationToken);
        var trees = new Dictionary<string, SyntaxTree> { [syntax.SyntaxTree.FilePath] = syntax.SyntaxTree };
        foreach (DiagnosticInfo diagnostic in result.Diagnostics)
        {
            if (!diagnostic.IsError())
                context.ReportDiagnostic(diagnostic.ToDiagnostic(trees));
        }
        if (entities?.Find(method.ReturnType) is { } entity && CacheGenAttributes.Of(method, syntax, KnownTypes.For(context.Compilation)).Cached is not null)
            context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.CachedEntityType, syntax.ReturnType.GetLocation(),
                method.Name, entity.Type.ToDisplayString(SymbolDisplayFormat.MinimallyQualifiedFormat), entity.Context.Name));
        foreach (RegionUse use in result.Regions)
            uses.Regions.Add(use);
        foreach (TemplateDeclaration template in result.Templates)
            uses.Templates.Add(template);
        foreach (KeyTemplateUse use in result.KeyUses)
            uses.KeyUses.Add(use);
    }

    /// <summary>
    /// An evicted region that no <c>[Cached]</c> method of the compilation uses is most likely a typo (CG0013); so is an
    /// evicted key template that no cached method of its region uses (CG0025; not also said for a region CG0013 names).
    /// </summary>
    private static void ReportCrossMethodWarnings(CompilationAnalysisContext context, CompilationUses uses)
    {
        var cachedRegions = uses.Regions.Where(r => r.IsCached).Select(r => r.Region).ToImmutableHashSet();
        var keyTemplates = uses.Templates.Where(t => !t.IsTag).Select(t => (t.Region, t.Signature)).ToImmutableHashSet();
        var trees = new Dictionary<string, SyntaxTree>();
        foreach (SyntaxTree tree in context.Compilation.SyntaxTrees)
            trees[tree.FilePath] = tree;
        foreach (RegionUse use in uses.Regions.Where(r => !r.IsCached && !cachedRegions.Contains(r.Region)).OrderBy(r => r.Location?.FilePath, System.StringComparer.Ordinal).ThenBy(r => r.Location?.Span.Start ?? 0))
            context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.UnusedRegion, use.Location?.ToLocation(trees), use.Region));
        foreach (KeyTemplateUse use in uses.KeyUses.Where(u => cachedRegions.Contains(u.Region) && !keyTemplates.Contains((u.Region, u.Signature)))
                     .OrderBy(u => u.Location?.FilePath, System.StringComparer.Ordinal).ThenBy(u => u.Location?.Span.Start ?? 0))
            context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.UnknownKeyTemplate, use.Location?.ToLocation(trees), use.Template, use.MethodName, use.Region));
    }
}
