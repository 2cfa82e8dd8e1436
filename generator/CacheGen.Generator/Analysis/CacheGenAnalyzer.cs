using System.Collections.Immutable;
using CacheGen.Generator.Diagnostics;
using CacheGen.Generator.Model;
using CacheGen.Generator.Parsing;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;

namespace CacheGen.Generator.Analysis;

/// <summary>
/// Reports the CacheGen warnings that need the whole app rather than one attributed method
/// (<see cref="DiagnosticDescriptors.ReportedByAnalyzer"/>: a cached EF Core entity, no HybridCache registered, an EF Core
/// transaction without the invalidation interceptor). The generator reports every other diagnostic, so that they show
/// beside C# errors (<see cref="CacheGenerator"/> says why), and none appears twice.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class CacheGenAnalyzer : DiagnosticAnalyzer
{
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics => DiagnosticDescriptors.ReportedByAnalyzer;

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

            if (EntityTypes.For(start.Compilation) is { } entities)
                start.RegisterSyntaxNodeAction(node => AnalyzeMethod(node, entities), SyntaxKind.MethodDeclaration);
            AppRegistrations.Register(start);
        });
    }

    /// <summary>CG0030: a [Cached] method that returns an EF Core entity type.</summary>
    private static void AnalyzeMethod(SyntaxNodeAnalysisContext context, EntityTypes entities)
    {
        var syntax = (MethodDeclarationSyntax)context.Node;
        if (syntax.AttributeLists.Count == 0 || Parser.IsGeneratedByCacheGen(syntax) || context.SemanticModel.GetDeclaredSymbol(syntax, context.CancellationToken) is not { } method)
            return;
        if (entities.Find(method.ReturnType) is { } entity && CacheGenAttributes.Of(method, syntax, KnownTypes.For(context.Compilation)).Cached is not null)
            context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.CachedEntityType, syntax.ReturnType.GetLocation(),
                method.Name, entity.Type.ToDisplayString(SymbolDisplayFormat.MinimallyQualifiedFormat), entity.Context.Name));
    }
}
