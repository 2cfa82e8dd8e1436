using System.Collections.Immutable;
using System.Text;
using BenchmarkDotNet.Attributes;
using Basic.Reference.Assemblies;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.Extensions.Caching.Hybrid;

namespace CacheGen.Generator.Benchmarks;

/// <summary>
/// The generator over 1,000 annotated methods in 100 types (plus 100 plain files): a full run from nothing, and a
/// run after an edit to a file no CacheGen method lives in, which should re-use every cached step.
/// </summary>
// In-process: BenchmarkDotNet's generated project could not repeat this one's Roslyn VersionOverride under central
// package management.
[MemoryDiagnoser]
[InProcess]
public class GeneratorBenchmarks
{
    public const int Types = 100;
    public const int MethodsPerType = 10;

    private static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest);

    private CSharpCompilation _compilation = null!;
    private CSharpCompilation _edited = null!;
    private GeneratorDriver _warm = null!;
    private GeneratorDriver _warmFloor = null!;

    [GlobalSetup]
    public void Setup()
    {
        _compilation = CreateCompilation();
        SyntaxTree unrelated = _compilation.SyntaxTrees.Last();
        _edited = _compilation.ReplaceSyntaxTree(unrelated,
            CSharpSyntaxTree.ParseText(unrelated.GetText().ToString().Replace("=> 0;", "=> 1;"), ParseOptions, unrelated.FilePath));
        _warm = NewDriver().RunGenerators(_compilation);
        _warmFloor = CSharpGeneratorDriver.Create([new FloorGenerator().AsSourceGenerator()], parseOptions: ParseOptions).RunGenerators(_compilation);
    }

    // Each run gets a fresh compilation (Clone keeps the syntax trees, drops all bound state), as a build or an
    // IDE edit does; re-using one would let later runs read symbols bound by earlier ones.

    /// <summary>A cold run: bind and parse every attributed method and emit every file.</summary>
    [Benchmark(Baseline = true)]
    public GeneratorDriver FullRun() => NewDriver().RunGenerators(_compilation.Clone());

    /// <summary>An IDE keystroke in an unrelated file: the driver re-uses its cached models and output.</summary>
    [Benchmark]
    public GeneratorDriver UnrelatedEdit() => _warm.RunGenerators(_edited.Clone());

    /// <summary>The same edit under <see cref="FloorGenerator"/>: what Roslyn spends before any CacheGen code runs.</summary>
    [Benchmark]
    public GeneratorDriver UnrelatedEditFloor() => _warmFloor.RunGenerators(_edited.Clone());

    public static GeneratorDriver NewDriver() =>
        CSharpGeneratorDriver.Create([new CacheGenerator().AsSourceGenerator()], parseOptions: ParseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: false));

    public static CSharpCompilation CreateCompilation()
    {
        var trees = new List<SyntaxTree>();
        for (int t = 0; t < Types; t++)
        {
            var source = new StringBuilder($$"""
                using System.Threading;
                using System.Threading.Tasks;
                using CacheGen;
                using Microsoft.Extensions.Caching.Hybrid;
                namespace Bench.Area{{t % 10}};

                public sealed record Item{{t}}(int Id, string Name);

                public sealed partial class Service{{t}}(HybridCache cache)
                {

                """);
            for (int m = 0; m < MethodsPerType; m++)
            {
                // A mix of the shapes users write: default keys, templates, sync, ValueTask and evictions.
                source.AppendLine((m % 5) switch
                {
                    0 => $$"""
                        [Cached("region{{t}}")]
                        public partial Task<Item{{t}}?> Get{{m}}Async(int id, string name, CancellationToken ct = default);
                        private Task<Item{{t}}?> Get{{m}}CoreAsync(int id, string name, CancellationToken ct) => Task.FromResult<Item{{t}}?>(new(id, name));
                    """,
                    1 => $$"""
                        [Cached("region{{t}}", Key = "item:{id}", TtlSeconds = 60)]
                        public partial ValueTask<int> Count{{m}}Async(int id);
                        private ValueTask<int> Count{{m}}CoreAsync(int id) => new(id);
                    """,
                    2 => $$"""
                        [Cached("region{{t}}", Key = "item:{item.Id}:{item.Name}")]
                        public partial string Describe{{m}}(Item{{t}} item);
                        private string Describe{{m}}Core(Item{{t}} item) => item.Name;
                    """,
                    3 => $$"""
                        [InvalidatesCache("region{{t}}")]
                        public partial Task Save{{m}}Async(Item{{t}} item, CancellationToken ct = default);
                        private Task Save{{m}}CoreAsync(Item{{t}} item, CancellationToken ct) => Task.CompletedTask;
                    """,
                    _ => $$"""
                        [InvalidatesCache("region{{t}}", Key = "item:{id}")]
                        public partial void Delete{{m}}(int id);
                        private void Delete{{m}}Core(int id) { }
                    """,
                });
            }
            source.AppendLine("}");
            trees.Add(CSharpSyntaxTree.ParseText(source.ToString(), ParseOptions, path: $"Service{t}.cs"));
        }
        for (int p = 0; p < Types; p++)
            trees.Add(CSharpSyntaxTree.ParseText($"namespace Bench.Plain; public static class Plain{p} {{ public static int Value() => 0; }}", ParseOptions, path: $"Plain{p}.cs"));

        ImmutableArray<MetadataReference> references =
        [
            .. Net100.References.All,
            MetadataReference.CreateFromFile(typeof(CachedAttribute).Assembly.Location),
            MetadataReference.CreateFromFile(typeof(HybridCache).Assembly.Location),
        ];
        return CSharpCompilation.Create("Bench", trees, references,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
    }
}
