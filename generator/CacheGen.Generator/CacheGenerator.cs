using System.Collections.Generic;
using System.Collections.Immutable;
using CacheGen.Generator.Diagnostics;
using CacheGen.Generator.Emitting;
using CacheGen.Generator.Model;
using CacheGen.Generator.Parsing;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace CacheGen.Generator;

/// <summary>
/// Implements partial methods marked <c>[Cached]</c> and <c>[InvalidatesCache]</c>. Parsing turns symbols into
/// equatable models; the emitter sees only models, so unrelated edits re-use cached output.
/// </summary>
/// <remarks>
/// The generator reports every error-severity CacheGen diagnostic itself. Analyzers do not run on a compilation that
/// already has errors (nor with <c>RunAnalyzers=false</c>), so a misuse reported only by an analyzer would vanish
/// behind one unrelated C# error. Warnings stay with <see cref="Analysis.CacheGenAnalyzer"/>, which reports nothing
/// of error severity: each diagnostic comes from exactly one of the two.
/// </remarks>
[Generator(LanguageNames.CSharp)]
public sealed class CacheGenerator : IIncrementalGenerator
{
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        IncrementalValuesProvider<ParseResult> cached = context.SyntaxProvider
            .ForAttributeWithMetadataName(KnownNames.CachedAttribute, static (node, _) => node is MethodDeclarationSyntax, Parser.ParseCached)
            .WithTrackingName(TrackingNames.CachedMethods);
        IncrementalValuesProvider<ParseResult> invalidating = context.SyntaxProvider
            .ForAttributeWithMetadataName(KnownNames.InvalidatesCacheAttribute, static (node, _) => node is MethodDeclarationSyntax, Parser.ParseInvalidating)
            .WithTrackingName(TrackingNames.InvalidatingMethods);

        IncrementalValuesProvider<MethodModel> cachedModels = cached
            .Where(static r => r.Model is not null).Select(static (r, _) => r.Model!)
            .WithTrackingName(TrackingNames.CachedModels);
        IncrementalValuesProvider<MethodModel> invalidatingModels = invalidating
            .Where(static r => r.Model is not null).Select(static (r, _) => r.Model!)
            .WithTrackingName(TrackingNames.InvalidatingModels);
        context.RegisterSourceOutput(cachedModels, static (spc, model) => spc.AddSource(model.HintName, Emitter.Emit(model)));
        context.RegisterSourceOutput(invalidatingModels, static (spc, model) => spc.AddSource(model.HintName, Emitter.Emit(model)));

        IncrementalValuesProvider<EquatableArray<DiagnosticInfo>> cachedErrors = cached
            .Select(static (r, _) => r.Errors())
            .WithTrackingName(TrackingNames.CachedErrors);
        IncrementalValuesProvider<EquatableArray<DiagnosticInfo>> invalidatingErrors = invalidating
            .Select(static (r, _) => r.Errors())
            .WithTrackingName(TrackingNames.InvalidatingErrors);
        context.RegisterSourceOutput(cachedErrors.Collect().Combine(invalidatingErrors.Collect()),
            static (spc, errors) => ReportErrors(spc, errors.Left, errors.Right));
    }

    private static void ReportErrors(SourceProductionContext context, ImmutableArray<EquatableArray<DiagnosticInfo>> cached,
        ImmutableArray<EquatableArray<DiagnosticInfo>> invalidating)
    {
        // CG0002 is found once per method of a type that is not partial; it is one misuse, so it is reported once. Other
        // errors at one place are separate misuses (two bad placeholders of one key template) and are all reported.
        var reportedTypes = new HashSet<LocationInfo?>();
        foreach (ImmutableArray<EquatableArray<DiagnosticInfo>> group in new[] { cached, invalidating })
        {
            foreach (EquatableArray<DiagnosticInfo> errors in group)
            {
                foreach (DiagnosticInfo error in errors)
                {
                    if (error.Id != DiagnosticDescriptors.ContainingTypeNotPartial.Id || reportedTypes.Add(error.Location))
                        context.ReportDiagnostic(error.ToDiagnostic());
                }
            }
        }
    }
}

/// <summary>Names of the pipeline steps, so tests can assert each one is cached after an unrelated edit.</summary>
public static class TrackingNames
{
    public const string CachedMethods = nameof(CachedMethods);
    public const string InvalidatingMethods = nameof(InvalidatingMethods);
    public const string CachedModels = nameof(CachedModels);
    public const string InvalidatingModels = nameof(InvalidatingModels);
    public const string CachedErrors = nameof(CachedErrors);
    public const string InvalidatingErrors = nameof(InvalidatingErrors);

    /// <summary>Every step, for tests that check them all.</summary>
    public static readonly string[] All = [CachedMethods, InvalidatingMethods, CachedModels, InvalidatingModels, CachedErrors, InvalidatingErrors];
}
