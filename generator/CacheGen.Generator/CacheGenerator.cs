using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using CacheGen.Generator.Diagnostics;
using CacheGen.Generator.Emitting;
using CacheGen.Generator.Linking;
using CacheGen.Generator.Model;
using CacheGen.Generator.Parsing;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace CacheGen.Generator;

/// <summary>
/// Implements partial methods marked <c>[Cached]</c>, <c>[InvalidatesCache]</c> and <c>[UpdatesCache]</c>, and <c>[CacheDecorator]</c> classes. Parsing turns symbols into
/// equatable models; the emitter sees only models, so unrelated edits re-use cached output.
/// </summary>
/// <remarks>
/// The generator reports CacheGen's diagnostics itself, warnings too: analyzers do not run on a compilation that already
/// has errors (nor with <c>RunAnalyzers=false</c>), so a misuse reported only by an analyzer would vanish behind one
/// unrelated C# error. Each is reported in the user's syntax tree (see <see cref="LocationInfo"/>), so
/// <c>#pragma warning disable</c> and <c>.editorconfig</c> severities apply. <see cref="Analysis.CacheGenAnalyzer"/>
/// reports only <see cref="DiagnosticDescriptors.ReportedByAnalyzer"/>: each diagnostic comes from exactly one of the two.
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
        IncrementalValuesProvider<ParseResult> updating = context.SyntaxProvider
            .ForAttributeWithMetadataName(KnownNames.UpdatesCacheAttribute, static (node, _) => node is MethodDeclarationSyntax, Parser.ParseUpdating)
            .WithTrackingName(TrackingNames.UpdatingMethods);

        IncrementalValuesProvider<MethodModel> cachedModels = cached
            .Where(static r => r.Model is not null).Select(static (r, _) => r.Model!)
            .WithTrackingName(TrackingNames.CachedModels);
        context.RegisterSourceOutput(cachedModels, static (spc, model) => spc.AddSource(model.HintName, Emitter.Emit(model)));

        // Writing methods are linked to every cached method's templates: which regions an evicted tag lives in.
        IncrementalValueProvider<ImmutableArray<TemplateDeclaration>> declared = cached
            .SelectMany(static (r, _) => r.Templates)
            .Collect()
            .WithTrackingName(TrackingNames.DeclaredTemplates);
        IncrementalValuesProvider<LinkedWriter> linked = invalidating.Where(static r => r.Model is not null)
            .Combine(declared).Select(static (pair, _) => EvictionLinker.Link(pair.Left, pair.Right))
            .WithTrackingName(TrackingNames.InvalidatingModels);
        IncrementalValuesProvider<LinkedWriter> linkedUpdates = updating.Where(static r => r.Model is not null)
            .Combine(declared).Select(static (pair, _) => EvictionLinker.Link(pair.Left, pair.Right))
            .WithTrackingName(TrackingNames.UpdatingModels);
        context.RegisterSourceOutput(linked, static (spc, writer) => spc.AddSource(writer.Model!.HintName, Emitter.Emit(writer.Model)));
        context.RegisterSourceOutput(linkedUpdates, static (spc, writer) => spc.AddSource(writer.Model!.HintName, Emitter.Emit(writer.Model)));

        IncrementalValuesProvider<EquatableArray<DiagnosticInfo>> cachedErrors = cached
            .Select(static (r, _) => r.Diagnostics)
            .WithTrackingName(TrackingNames.CachedErrors);
        IncrementalValuesProvider<EquatableArray<DiagnosticInfo>> invalidatingErrors = invalidating
            .Select(static (r, _) => r.Diagnostics)
            .WithTrackingName(TrackingNames.InvalidatingErrors);
        IncrementalValuesProvider<EquatableArray<DiagnosticInfo>> updatingErrors = updating
            .Select(static (r, _) => r.Diagnostics)
            .WithTrackingName(TrackingNames.UpdatingErrors);
        IncrementalValuesProvider<EquatableArray<DiagnosticInfo>> linkErrors = linked.Select(static (w, _) => w.Diagnostics)
            .Collect().Combine(linkedUpdates.Select(static (w, _) => w.Diagnostics).Collect())
            .SelectMany(static (pair, _) => pair.Left.AddRange(pair.Right))
            .WithTrackingName(TrackingNames.LinkErrors);
        IncrementalValueProvider<EquatableArray<DiagnosticInfo>> crossMethod = CrossMethodUses(cached, invalidating, updating)
            .Select(static (uses, _) => CrossMethodChecks.Check(uses))
            .WithTrackingName(TrackingNames.CrossMethodWarnings);
        context.RegisterSourceOutput(
            cachedErrors.Collect().Combine(invalidatingErrors.Collect()).Combine(updatingErrors.Collect().Combine(linkErrors.Collect()))
                .Combine(crossMethod),
            static (spc, input) =>
            {
                var (((cachedDiagnostics, invalidatingDiagnostics), (updatingDiagnostics, linkDiagnostics)), crossMethodDiagnostics) = input;
                Report(spc, cachedDiagnostics.AddRange(invalidatingDiagnostics).AddRange(updatingDiagnostics).AddRange(linkDiagnostics)
                    .Add(crossMethodDiagnostics));
            });

        InitializeBatches(context);
        InitializeDecorators(context);
    }

    /// <summary>[CachedBatch]: its own step, reading its target's declaration through the semantic model.</summary>
    private static void InitializeBatches(IncrementalGeneratorInitializationContext context)
    {
        IncrementalValuesProvider<BatchParseResult> batches = context.SyntaxProvider
            .ForAttributeWithMetadataName(KnownNames.CachedBatchAttribute, static (node, _) => node is MethodDeclarationSyntax, Parser.ParseBatch)
            .WithTrackingName(TrackingNames.BatchMethods);
        IncrementalValuesProvider<BatchModel> models = batches
            .Where(static r => r.Model is not null).Select(static (r, _) => r.Model!)
            .WithTrackingName(TrackingNames.BatchModels);
        context.RegisterSourceOutput(models, static (spc, model) => spc.AddSource(model.Method.HintName, Emitter.EmitBatch(model)));
        context.RegisterSourceOutput(batches.Select(static (r, _) => r.Diagnostics).WithTrackingName(TrackingNames.BatchErrors),
            static (spc, diagnostics) => Report(spc, ImmutableArray.Create(diagnostics)));
    }

    // [CacheDecorator] classes: their own step, model and emitter; their attributed methods go through the steps above.
    private static void InitializeDecorators(IncrementalGeneratorInitializationContext context)
    {
        IncrementalValuesProvider<DecoratorResult> decorators = context.SyntaxProvider
            .ForAttributeWithMetadataName(KnownNames.CacheDecoratorAttribute, static (node, _) => node is ClassDeclarationSyntax or RecordDeclarationSyntax,
                DecoratorParser.Parse)
            .WithTrackingName(TrackingNames.Decorators);
        IncrementalValuesProvider<DecoratorModel> models = decorators
            .Where(static r => r.Model is not null).Select(static (r, _) => r.Model!)
            .WithTrackingName(TrackingNames.DecoratorModels);
        context.RegisterSourceOutput(models, static (spc, model) => spc.AddSource(model.HintName, DecoratorEmitter.Emit(model)));
        IncrementalValuesProvider<EquatableArray<DiagnosticInfo>> errors = decorators
            .Select(static (r, _) => r.Diagnostics)
            .WithTrackingName(TrackingNames.DecoratorErrors);
        context.RegisterSourceOutput(errors, static (spc, diagnostics) => Report(spc, ImmutableArray.Create(diagnostics)));
    }

    /// <summary>
    /// What the cross-method warnings compare: every region named, every template a cached method declares, every key
    /// template a writing method evicts, across the three attribute steps.
    /// </summary>
    private static IncrementalValueProvider<CrossMethodUses> CrossMethodUses(IncrementalValuesProvider<ParseResult> cached,
        IncrementalValuesProvider<ParseResult> invalidating, IncrementalValuesProvider<ParseResult> updating)
    {
        return Gather(static r => r.Regions).Combine(Gather(static r => r.Templates)).Combine(Gather(static r => r.KeyUses))
            .Select(static (all, _) => new CrossMethodUses(all.Left.Left, all.Left.Right, all.Right));

        IncrementalValueProvider<EquatableArray<T>> Gather<T>(Func<ParseResult, EquatableArray<T>> pick) where T : IEquatable<T> =>
            cached.SelectMany((r, _) => pick(r)).Collect()
                .Combine(invalidating.SelectMany((r, _) => pick(r)).Collect())
                .Combine(updating.SelectMany((r, _) => pick(r)).Collect())
                .Select(static (all, _) => all.Left.Left.AddRange(all.Left.Right).AddRange(all.Right).ToEquatableArray());
    }

    private static void Report(SourceProductionContext context, ImmutableArray<EquatableArray<DiagnosticInfo>> groups)
    {
        // CG0002 is found once per method of a type that is not partial; it is one misuse, so it is reported once. Other
        // errors at one place are separate misuses (two bad placeholders of one key template) and are all reported.
        var reportedTypes = new HashSet<LocationInfo?>();
        foreach (EquatableArray<DiagnosticInfo> diagnostics in groups)
        {
            foreach (DiagnosticInfo diagnostic in diagnostics)
            {
                if (diagnostic.Id != DiagnosticDescriptors.ContainingTypeNotPartial.Id || reportedTypes.Add(diagnostic.Location))
                    context.ReportDiagnostic(diagnostic.ToDiagnostic());
            }
        }
    }
}

/// <summary>Names of the pipeline steps, so tests can assert each one is cached after an unrelated edit.</summary>
public static class TrackingNames
{
    public const string CachedMethods = nameof(CachedMethods);
    public const string InvalidatingMethods = nameof(InvalidatingMethods);
    public const string UpdatingMethods = nameof(UpdatingMethods);
    public const string CachedModels = nameof(CachedModels);
    public const string DeclaredTemplates = nameof(DeclaredTemplates);
    public const string CrossMethodWarnings = nameof(CrossMethodWarnings);
    public const string InvalidatingModels = nameof(InvalidatingModels);
    public const string UpdatingModels = nameof(UpdatingModels);
    public const string CachedErrors = nameof(CachedErrors);
    public const string InvalidatingErrors = nameof(InvalidatingErrors);
    public const string UpdatingErrors = nameof(UpdatingErrors);
    public const string LinkErrors = nameof(LinkErrors);
    public const string BatchMethods = nameof(BatchMethods);
    public const string BatchModels = nameof(BatchModels);
    public const string BatchErrors = nameof(BatchErrors);
    public const string Decorators = nameof(Decorators);
    public const string DecoratorModels = nameof(DecoratorModels);
    public const string DecoratorErrors = nameof(DecoratorErrors);

    /// <summary>Every step, for tests that check them all.</summary>
    public static readonly string[] All = [CachedMethods, InvalidatingMethods, UpdatingMethods, CachedModels, DeclaredTemplates, InvalidatingModels,
        UpdatingModels, CachedErrors, InvalidatingErrors, UpdatingErrors, LinkErrors, BatchMethods, BatchModels, BatchErrors, Decorators,
        DecoratorModels, DecoratorErrors];
}
