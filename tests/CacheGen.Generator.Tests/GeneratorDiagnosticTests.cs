using CacheGen.Generator.Tests.Infrastructure;
using Microsoft.CodeAnalysis;

namespace CacheGen.Generator.Tests;

/// <summary>
/// Errors are reported by the generator itself, which runs in every build, while analyzers are skipped by a build
/// that already has a C# error or runs with <c>RunAnalyzers=false</c>; and generated code never repeats a user's error.
/// </summary>
public sealed class GeneratorDiagnosticTests
{
    private const string Prelude = """
        using System.Threading.Tasks;
        using CacheGen;
        using Microsoft.Extensions.Caching.Hybrid;
        namespace App;

        """;

    [Fact]
    public void Non_partial_type_is_reported_by_the_generator_once_per_type()
    {
        GeneratorRun run = GeneratorHarness.Run(Prelude + """
            public class Service(HybridCache cache)
            {
                [Cached("items")]
                public partial Task<int> GetAsync(int id);
                private Task<int> GetCoreAsync(int id) => Task.FromResult(id);
                [InvalidatesCache("items")]
                public partial Task SaveAsync(int id);
                private Task SaveCoreAsync(int id) => Task.CompletedTask;
            }
            """);
        Diagnostic error = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal("CG0002", error.Id);
        Assert.Equal(DiagnosticSeverity.Error, error.Severity);
        Assert.Equal("Source0.cs", error.Location.GetLineSpan().Path);
        Assert.DoesNotContain(run.AnalyzerDiagnostics, d => d.Id == "CG0002");
    }

    [Fact]
    public void Two_bad_placeholders_of_one_key_template_are_two_errors()
    {
        GeneratorRun run = GeneratorHarness.Run(Prelude + """
            public partial class Service(HybridCache cache)
            {
                [Cached("items", Key = "item:{idd}:{nam}")]
                public partial Task<int> GetAsync(int id, string name);
                private Task<int> GetCoreAsync(int id, string name) => Task.FromResult(id);
            }
            """);
        Assert.Equal(2, run.GeneratorDiagnostics.Count(d => d.Id == "CG0007"));
    }

    [Fact]
    public void Missing_core_method_is_reported_by_the_generator_not_also_by_the_analyzer()
    {
        GeneratorRun run = GeneratorHarness.Run(Prelude + """
            public partial class Service(HybridCache cache)
            {
                [Cached("items")]
                public partial Task<int> GetAsync(int id);
            }
            """);
        Assert.Equal("CG0003", Assert.Single(run.GeneratorDiagnostics).Id);
        Assert.Empty(run.AnalyzerDiagnostics);
        // The throwing stub keeps the build to the one CacheGen error.
        Assert.Empty(run.Output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error));
    }

    [Theory]
    [InlineData("public partial Task<Pst> GetAsync(int id);", "private Task<Pst> GetCoreAsync(int id) => null!;")]
    [InlineData("public partial Task<int> GetAsync(Qury id);", "private Task<int> GetCoreAsync(Qury id) => Task.FromResult(0);")]
    [InlineData("public partial Task<System.Collections.Generic.List<Pst>> GetAsync(int id);", "private Task<System.Collections.Generic.List<Pst>> GetCoreAsync(int id) => null!;")]
    public void Type_typo_in_the_signature_is_not_repeated_in_generated_code(string declaration, string core)
    {
        GeneratorRun run = GeneratorHarness.Run(Prelude + $$"""
            public partial class Service(HybridCache cache)
            {
                [Cached("items")]
                {{declaration}}
                {{core}}
            }
            """);
        Assert.Empty(run.Sources);
        Assert.Empty(run.CacheGenDiagnostics);
        var generated = run.Output.SyntaxTrees.Except(run.Input.SyntaxTrees).ToHashSet();
        Diagnostic[] errors = run.Output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToArray();
        Assert.Contains(errors, d => d.Id == "CS0246");
        Assert.DoesNotContain(errors, d => d.Location.SourceTree is { } tree && generated.Contains(tree));
    }

    public sealed class UnresolvedTypesElsewhere : TheoryData<string>
    {
        public UnresolvedTypesElsewhere()
        {
            // In the core method's signature: not a CG0004 mismatch, just the user's CS0246.
            Add("""
                using System.Threading.Tasks; using CacheGen; using Microsoft.Extensions.Caching.Hybrid;
                public partial class Service(HybridCache cache)
                {
                    [Cached("items")] public partial Task<int> GetAsync(int id);
                    private Task<int> GetCoreAsync(Qury id) => Task.FromResult(0);
                }
                """);
            // As the type of a member a key placeholder reads: not a CG0012.
            Add("""
                using System.Threading.Tasks; using CacheGen; using Microsoft.Extensions.Caching.Hybrid;
                public sealed class Post { public Identifer Id { get; set; } = null!; }
                public partial class Service(HybridCache cache)
                {
                    [Cached("items", Key = "post:{post.Id}")] public partial Task<int> GetAsync(Post post);
                    private Task<int> GetCoreAsync(Post post) => Task.FromResult(0);
                }
                """);
            // HybridCache itself, without its using: not a CG0008 "no HybridCache member".
            Add("""
                using System.Threading.Tasks; using CacheGen;
                public partial class Service(HybridCache cache)
                {
                    [Cached("items")] public partial Task<int> GetAsync(int id);
                    private Task<int> GetCoreAsync(int id) => Task.FromResult(id);
                }
                """);
        }
    }

    [Theory]
    [ClassData(typeof(UnresolvedTypesElsewhere))]
    public void Unresolved_type_outside_the_signature_is_left_to_the_compiler(string source)
    {
        GeneratorRun run = GeneratorHarness.Run(source);
        Assert.Empty(run.CacheGenDiagnostics);
        Assert.Empty(run.Sources);
        Assert.Contains(run.Output.GetDiagnostics(), d => d.Id == "CS0246");
    }

    [Fact]
    public void GeneratorDiagnostics_carry_the_path_and_line_of_the_users_code()
    {
        GeneratorRun run = GeneratorHarness.Run("// first line\n" + Prelude + """
            public partial class Service(HybridCache cache)
            {
                [Cached("items")]
                public partial Task<int> GetAsync(int id);
            }
            """);
        Diagnostic error = Assert.Single(run.GeneratorDiagnostics);
        FileLinePositionSpan span = error.Location.GetLineSpan();
        Assert.Equal("Source0.cs", span.Path);
        Assert.Equal(8, span.StartLinePosition.Line); // zero-based: the line of 'GetAsync'
        Assert.Equal("GetAsync", run.Input.SyntaxTrees[0].GetText().ToString(error.Location.SourceSpan));
    }
}
