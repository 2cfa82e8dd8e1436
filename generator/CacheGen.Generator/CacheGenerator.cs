using System.Collections.Immutable;
using System.Linq;
using CacheGen.Generator.Diagnostics;
using CacheGen.Generator.Emitting;
using CacheGen.Generator.Model;
using CacheGen.Generator.Parsing;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace CacheGen.Generator;

/// <summary>
/// Implements partial methods marked <c>[Cached]</c> and <c>[InvalidatesCache]</c>. Parsing turns symbols into
/// equatable models and diagnostics; the emitter sees only models, so unrelated edits re-use cached output.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class CacheGenerator : IIncrementalGenerator
{
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        IncrementalValuesProvider<ParseResult> cached = context.SyntaxProvider
            .ForAttributeWithMetadataName(AttributeNames.Cached, static (node, _) => node is MethodDeclarationSyntax, Parser.ParseCached)
            .WithTrackingName(TrackingNames.CachedMethods);
        IncrementalValuesProvider<ParseResult> invalidating = context.SyntaxProvider
            .ForAttributeWithMetadataName(AttributeNames.InvalidatesCache, static (node, _) => node is MethodDeclarationSyntax, Parser.ParseInvalidating)
            .WithTrackingName(TrackingNames.InvalidatingMethods);

        IncrementalValuesProvider<MethodModel> cachedModels = cached
            .Select(static (r, _) => r.Model).Where(static m => m is not null).Select(static (m, _) => m!)
            .WithTrackingName(TrackingNames.CachedModels);
        IncrementalValuesProvider<MethodModel> invalidatingModels = invalidating
            .Select(static (r, _) => r.Model).Where(static m => m is not null).Select(static (m, _) => m!)
            .WithTrackingName(TrackingNames.InvalidatingModels);
        context.RegisterSourceOutput(cachedModels, static (spc, model) => spc.AddSource(model.HintName, Emitter.Emit(model)));
        context.RegisterSourceOutput(invalidatingModels, static (spc, model) => spc.AddSource(model.HintName, Emitter.Emit(model)));

        IncrementalValueProvider<ImmutableArray<DiagnosticInfo>> diagnostics = cached.Collect()
            .Combine(invalidating.Collect())
            .Select(static (pair, _) => DiagnosticsOf(pair.Left.AddRange(pair.Right)))
            .WithTrackingName(TrackingNames.Diagnostics);
        context.RegisterSourceOutput(diagnostics, static (spc, all) =>
        {
            foreach (DiagnosticInfo diagnostic in all)
                spc.ReportDiagnostic(diagnostic.ToDiagnostic());
        });
    }

    /// <summary>Each method's own diagnostics, plus the cross-method check for evicted regions nobody caches.</summary>
    private static ImmutableArray<DiagnosticInfo> DiagnosticsOf(ImmutableArray<ParseResult> results)
    {
        var cachedRegions = results.SelectMany(r => r.Regions).Where(r => r.IsCached).Select(r => r.Region).ToImmutableHashSet();
        ImmutableArray<DiagnosticInfo>.Builder all = ImmutableArray.CreateBuilder<DiagnosticInfo>();
        foreach (ParseResult result in results)
        {
            all.AddRange(result.Diagnostics);
            foreach (RegionUse use in result.Regions)
            {
                if (!use.IsCached && !cachedRegions.Contains(use.Region))
                    all.Add(new DiagnosticInfo(DiagnosticDescriptors.UnusedRegion, use.Location, new[] { use.Region }.ToEquatableArray()));
            }
        }
        return all.ToImmutable();
    }
}

/// <summary>Names of the pipeline steps, so tests can assert each one is cached after an unrelated edit.</summary>
public static class TrackingNames
{
    public const string CachedMethods = nameof(CachedMethods);
    public const string InvalidatingMethods = nameof(InvalidatingMethods);
    public const string CachedModels = nameof(CachedModels);
    public const string InvalidatingModels = nameof(InvalidatingModels);
    public const string Diagnostics = nameof(Diagnostics);
}
