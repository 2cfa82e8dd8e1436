using CacheGen.Generator.Emitting;
using CacheGen.Generator.Model;
using CacheGen.Generator.Parsing;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace CacheGen.Generator;

/// <summary>
/// Implements partial methods marked <c>[Cached]</c> and <c>[InvalidatesCache]</c>. Parsing turns symbols into
/// equatable models; the emitter sees only models, so unrelated edits re-use cached output. Diagnostics are
/// reported by <see cref="Analysis.CacheGenAnalyzer"/> from the same parser, so each is reported once and code fixes
/// can attach to them.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class CacheGenerator : IIncrementalGenerator
{
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        IncrementalValuesProvider<MethodModel?> cached = context.SyntaxProvider
            .ForAttributeWithMetadataName(AttributeNames.Cached, static (node, _) => node is MethodDeclarationSyntax, Parser.ModelOfCached)
            .WithTrackingName(TrackingNames.CachedMethods);
        IncrementalValuesProvider<MethodModel?> invalidating = context.SyntaxProvider
            .ForAttributeWithMetadataName(AttributeNames.InvalidatesCache, static (node, _) => node is MethodDeclarationSyntax, Parser.ModelOfInvalidating)
            .WithTrackingName(TrackingNames.InvalidatingMethods);

        IncrementalValuesProvider<MethodModel> cachedModels = cached
            .Where(static m => m is not null).Select(static (m, _) => m!)
            .WithTrackingName(TrackingNames.CachedModels);
        IncrementalValuesProvider<MethodModel> invalidatingModels = invalidating
            .Where(static m => m is not null).Select(static (m, _) => m!)
            .WithTrackingName(TrackingNames.InvalidatingModels);
        context.RegisterSourceOutput(cachedModels, static (spc, model) => spc.AddSource(model.HintName, Emitter.Emit(model)));
        context.RegisterSourceOutput(invalidatingModels, static (spc, model) => spc.AddSource(model.HintName, Emitter.Emit(model)));
    }
}

/// <summary>Names of the pipeline steps, so tests can assert each one is cached after an unrelated edit.</summary>
public static class TrackingNames
{
    public const string CachedMethods = nameof(CachedMethods);
    public const string InvalidatingMethods = nameof(InvalidatingMethods);
    public const string CachedModels = nameof(CachedModels);
    public const string InvalidatingModels = nameof(InvalidatingModels);

    /// <summary>Every step, for tests that check them all.</summary>
    public static readonly string[] All = [CachedMethods, InvalidatingMethods, CachedModels, InvalidatingModels];
}
