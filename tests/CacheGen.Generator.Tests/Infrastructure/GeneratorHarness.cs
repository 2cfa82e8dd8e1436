using System.Collections.Immutable;
using Basic.Reference.Assemblies;
using CacheGen.Generator;
using CacheGen.Generator.Analysis;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.Extensions.Caching.Hybrid;

namespace CacheGen.Generator.Tests.Infrastructure;

/// <summary>The outcome of running the generator over one test compilation.</summary>
public sealed record GeneratorRun(
    GeneratorDriver Driver,
    CSharpCompilation Input,
    Compilation Output,
    ImmutableArray<Diagnostic> GeneratorDiagnostics,
    ImmutableArray<GeneratedSourceResult> Sources)
{
    /// <summary>Errors and warnings of the compilation with the generated code in it (CS1591-style noise excluded).</summary>
    public ImmutableArray<Diagnostic> CompilationDiagnostics =>
        Output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning).ToImmutableArray();

    /// <summary>
    /// The analyzer's CGxxxx diagnostics (the warnings that need the whole app): <see cref="Analysis.CacheGenAnalyzer"/>
    /// run over the compilation with the generated code in it, as the compiler runs analyzers after generators.
    /// </summary>
    public ImmutableArray<Diagnostic> AnalyzerDiagnostics => _analyzerDiagnostics ??= GeneratorHarness.Analyze(Output);

    private ImmutableArray<Diagnostic>? _analyzerDiagnostics;

    /// <summary>Everything CacheGen reports: the generator's diagnostics and the analyzer's.</summary>
    public ImmutableArray<Diagnostic> CacheGenDiagnostics => GeneratorDiagnostics.AddRange(AnalyzerDiagnostics);

    public string Source(string hintNameStart) =>
        Sources.Single(s => s.HintName.StartsWith(hintNameStart, StringComparison.Ordinal)).SourceText.ToString();
}

/// <summary>
/// Runs <see cref="CacheGenerator"/> through <see cref="CSharpGeneratorDriver"/> over source text, against the .NET 10
/// reference assemblies, the CacheGen attributes and the HybridCache abstraction.
/// </summary>
public static class GeneratorHarness
{
    public static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest);

    private static readonly ImmutableArray<MetadataReference> References =
    [
        .. Net100.References.All,
        MetadataReference.CreateFromFile(typeof(CachedAttribute).Assembly.Location),
        MetadataReference.CreateFromFile(typeof(HybridCache).Assembly.Location),
    ];

    public static CSharpCompilation Compile(params string[] sources) =>
        CSharpCompilation.Create(
            "Tests",
            sources.Select((s, i) => CSharpSyntaxTree.ParseText(s, ParseOptions, path: $"Source{i}.cs")),
            References,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));

    public static GeneratorRun Run(params string[] sources) => Run(Compile(sources));

    public static GeneratorRun Run(CSharpCompilation compilation, GeneratorDriver? driver = null)
    {
        driver ??= CSharpGeneratorDriver.Create(
            [new CacheGenerator().AsSourceGenerator()],
            parseOptions: ParseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));
        driver = driver.RunGeneratorsAndUpdateCompilation(compilation, out Compilation output, out ImmutableArray<Diagnostic> diagnostics);
        GeneratorDriverRunResult result = driver.GetRunResult();
        return new GeneratorRun(driver, compilation, output, diagnostics, result.Results.Single().GeneratedSources);
    }

    public static ImmutableArray<Diagnostic> Analyze(Compilation compilation)
    {
        Exception? crash = null;
        var options = new CompilationWithAnalyzersOptions(
            new AnalyzerOptions([]), onAnalyzerException: (e, _, _) => crash ??= e, concurrentAnalysis: true, logAnalyzerExecutionTime: false);
        ImmutableArray<Diagnostic> diagnostics = compilation.WithAnalyzers([new CacheGenAnalyzer()], options)
            .GetAnalyzerDiagnosticsAsync().GetAwaiter().GetResult();
        // An analyzer that throws reports nothing; fail loudly instead of passing a test that expects silence.
        if (crash is not null)
            throw new InvalidOperationException("CacheGenAnalyzer threw", crash);
        return diagnostics;
    }
}
