using CacheGen.Generator.Diagnostics;
using CacheGen.Generator.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace CacheGen.Generator.Tests;

/// <summary>
/// One test per diagnostic: it fires on the misuse, at the marked <c>[|span|]</c> of the user's code, no C# error
/// appears inside generated code, and the corrected code is silent and compiles cleanly.
/// </summary>
public sealed class DiagnosticTests
{
    private const string Prelude = """
        using System;
        using System.Threading;
        using System.Threading.Tasks;
        using CacheGen;
        using Microsoft.Extensions.Caching.Hybrid;
        namespace App;

        """;

    [Fact]
    public void CG0001_method_is_not_a_partial_declaration() => Check("CG0001",
        """
        public partial class Service(HybridCache cache)
        {
            [Cached("items")]
            public Task<int> [|GetAsync|](int id) => GetCoreAsync(id);
            private Task<int> GetCoreAsync(int id) => Task.FromResult(id);
        }
        """,
        """
        public partial class Service(HybridCache cache)
        {
            [Cached("items")]
            public partial Task<int> GetAsync(int id);
            private Task<int> GetCoreAsync(int id) => Task.FromResult(id);
        }
        """);

    [Fact]
    public void CG0001_partial_implementation_written_by_hand() => Check("CG0001",
        """
        public partial class Service(HybridCache cache)
        {
            public partial Task<int> GetAsync(int id);
            [Cached("items")]
            public partial Task<int> [|GetAsync|](int id) => GetCoreAsync(id);
            private Task<int> GetCoreAsync(int id) => Task.FromResult(id);
        }
        """,
        """
        public partial class Service(HybridCache cache)
        {
            [Cached("items")]
            public partial Task<int> GetAsync(int id);
            private Task<int> GetCoreAsync(int id) => Task.FromResult(id);
        }
        """,
        allowCSharpErrorsInUserCode: true);

    [Fact]
    public void CG0002_containing_type_is_not_partial_at_any_level() => Check("CG0002",
        """
        public class [|Outer|]
        {
            public partial class Service(HybridCache cache)
            {
                [InvalidatesCache("items")]
                public partial void Clear();
                private void ClearCore() { }
                [Cached("items")]
                public partial int Count();
                private int CountCore() => 0;
            }
        }
        """,
        """
        public partial class Outer
        {
            public partial class Service(HybridCache cache)
            {
                [InvalidatesCache("items")]
                public partial void Clear();
                private void ClearCore() { }
                [Cached("items")]
                public partial int Count();
                private int CountCore() => 0;
            }
        }
        """,
        allowCSharpErrorsInUserCode: true); // once per type, however many CacheGen methods it holds

    [Fact]
    public void CG0003_core_method_is_missing() => Check("CG0003",
        """
        public partial class Service(HybridCache cache)
        {
            [Cached("items")]
            public partial Task<int> [|GetAsync|](int id);
            private Task<int> GetCore(int id) => Task.FromResult(id);
        }
        """,
        """
        public partial class Service(HybridCache cache)
        {
            [Cached("items")]
            public partial Task<int> GetAsync(int id);
            private Task<int> GetCoreAsync(int id) => Task.FromResult(id);
        }
        """);

    [Fact]
    public void CG0004_core_method_signature_does_not_match() => Check("CG0004",
        """
        public partial class Service(HybridCache cache)
        {
            [Cached("items")]
            public partial Task<int> [|GetAsync|](int id, CancellationToken ct);
            private Task<int> GetCoreAsync(long id, CancellationToken ct) => Task.FromResult((int)id);
        }
        """,
        """
        public partial class Service(HybridCache cache)
        {
            [Cached("items")]
            public partial Task<int> GetAsync(int id, CancellationToken ct);
            private Task<int> GetCoreAsync(int id, CancellationToken ct) => Task.FromResult(id);
        }
        """);

    [Theory]
    [InlineData("void", "")]
    [InlineData("Task", "return Task.CompletedTask;")]
    [InlineData("ValueTask", "return default;")]
    [InlineData("System.Collections.Generic.IAsyncEnumerable<int>", "return default!;")]
    [InlineData("System.Runtime.CompilerServices.ConfiguredValueTaskAwaitable<int>", "return default;")]
    public void CG0005_return_type_cannot_be_cached(string returnType, string body) => Check("CG0005",
        $$"""
        public partial class Service(HybridCache cache)
        {
            [Cached("items")]
            public partial [|{{returnType}}|] Refresh(int id);
            private {{returnType}} RefreshCore(int id) { {{body}} }
        }
        """,
        """
        public partial class Service(HybridCache cache)
        {
            [Cached("items")]
            public partial Task<int> RefreshAsync(int id);
            private Task<int> RefreshCoreAsync(int id) => Task.FromResult(id);
        }
        """);

    [Theory]
    [InlineData("ref int id")]
    [InlineData("out int id")]
    [InlineData("in int id")]
    [InlineData("Span<int> id")]
    public void CG0006_unsupported_parameter(string parameter) => Check("CG0006",
        $$"""
        public partial class Service(HybridCache cache)
        {
            [InvalidatesCache("items")]
            public partial void Remove([|{{parameter}}|]);
            private void RemoveCore({{parameter}}) { {{(parameter.StartsWith("out") ? "id = 0;" : "")}} }
            [Cached("items")]
            public partial int Count();
            private int CountCore() => 0;
        }
        """,
        """
        public partial class Service(HybridCache cache)
        {
            [InvalidatesCache("items")]
            public partial void Remove(int id);
            private void RemoveCore(int id) { }
            [Cached("items")]
            public partial int Count();
            private int CountCore() => 0;
        }
        """);

    [Fact]
    public void CG0006_pointer_parameter() => Check("CG0006",
        """
        public unsafe partial class Service(HybridCache cache)
        {
            [Cached("items")]
            public partial int Read([|int* value|]);
            private int ReadCore(int* value) => *value;
        }
        """,
        """
        public partial class Service(HybridCache cache)
        {
            [Cached("items")]
            public partial int Read(int value);
            private int ReadCore(int value) => value;
        }
        """,
        unsafeCode: true);

    [Fact]
    public void CG0006_instance_method_of_a_ref_struct() => Check("CG0006",
        """
        public ref partial struct Reader(HybridCache cache)
        {
            [Cached("items")]
            public partial int [|Count|](int x);
            private int CountCore(int x) => x;
        }
        """,
        """
        public ref partial struct Reader
        {
            public static HybridCache Cache { get; set; } = null!;
            [Cached("items")]
            public static partial int Count(int x);
            private static int CountCore(int x) => x;
        }
        """);

    [Theory]
    [InlineData("post:{postId}", "post:{id}")]
    [InlineData("post:{id.Missing}", "post:{id}")]
    public void CG0007_placeholder_names_no_parameter_or_member(string bad, string good) => Check("CG0007",
        $$"""
        public partial class Service(HybridCache cache)
        {
            [Cached("items", [|Key = "{{bad}}"|])]
            public partial Task<int> GetAsync(int id);
            private Task<int> GetCoreAsync(int id) => Task.FromResult(id);
        }
        """,
        $$"""
        public partial class Service(HybridCache cache)
        {
            [Cached("items", Key = "{{good}}")]
            public partial Task<int> GetAsync(int id);
            private Task<int> GetCoreAsync(int id) => Task.FromResult(id);
        }
        """);

    [Fact]
    public void CG0008_no_hybrid_cache_member() => Check("CG0008",
        """
        public partial class Service
        {
            [Cached("items")]
            public partial Task<int> [|GetAsync|](int id);
            private Task<int> GetCoreAsync(int id) => Task.FromResult(id);
        }
        """,
        """
        public partial class Service(HybridCache cache)
        {
            [Cached("items")]
            public partial Task<int> GetAsync(int id);
            private Task<int> GetCoreAsync(int id) => Task.FromResult(id);
        }
        """);

    [Fact]
    public void CG0008_static_method_needs_a_static_cache() => Check("CG0008",
        """
        public partial class Service(HybridCache cache)
        {
            [Cached("items")]
            public static partial int [|Count|]();
            private static int CountCore() => 0;
        }
        """,
        """
        public partial class Service
        {
            public static HybridCache Cache { get; set; } = null!;
            [Cached("items")]
            public static partial int Count();
            private static int CountCore() => 0;
        }
        """);

    [Fact]
    public void CG0009_more_than_one_hybrid_cache_member() => Check("CG0009",
        """
        public partial class Service(HybridCache primary, HybridCache secondary)
        {
            private readonly HybridCache _primary = primary;
            private readonly HybridCache _secondary = secondary;
            [Cached("items")]
            public partial Task<int> [|GetAsync|](int id);
            private Task<int> GetCoreAsync(int id) => Task.FromResult(id);
        }
        """,
        """
        public partial class Service(HybridCache primary)
        {
            private readonly HybridCache _primary = primary;
            [Cached("items")]
            public partial Task<int> GetAsync(int id);
            private Task<int> GetCoreAsync(int id) => Task.FromResult(id);
        }
        """);

    [Fact]
    public void CG0009_two_hybrid_cache_primary_constructor_parameters() => Check("CG0009",
        """
        public partial class Service(HybridCache primary, HybridCache secondary)
        {
            [Cached("items")]
            public partial Task<int> [|GetAsync|](int id);
            private Task<int> GetCoreAsync(int id) => Task.FromResult(id);
        }
        """,
        """
        public partial class Service(HybridCache primary)
        {
            [Cached("items")]
            public partial Task<int> GetAsync(int id);
            private Task<int> GetCoreAsync(int id) => Task.FromResult(id);
        }
        """);

    [Theory]
    [InlineData("public Task<int> GetAsync(int id) => GetCoreAsync(id);", "'public partial Task<int> GetAsync(int id);'")]
    [InlineData("internal static ValueTask<string?> GetAsync(int id, CancellationToken ct) => default;", "'internal static partial ValueTask<string?> GetAsync(int id, CancellationToken ct);'")]
    [InlineData("public async Task<System.Collections.Generic.List<int>> GetAsync<T>(T id) { await Task.Yield(); return []; }", "'public partial Task<List<int>> GetAsync<T>(T id);'")]
    public void CG0001_ExampleShowsTheMethodsOwnSignature(string declaration, string example)
    {
        GeneratorRun run = GeneratorHarness.Run(Prelude + $$"""
            public partial class Service(HybridCache cache)
            {
                [Cached("items")]
                {{declaration}}
            }
            """);
        Diagnostic error = Assert.Single(run.CacheGenDiagnostics, d => d.Id == "CG0001");
        Assert.Contains("such as " + example, error.GetMessage());
        Assert.DoesNotContain("Post", error.GetMessage());
    }

    [Theory]
    [InlineData("\"\"")]
    [InlineData("\"a{b}\"")]
    public void CG0010_invalid_region(string region) => Check("CG0010",
        $$"""
        public partial class Service(HybridCache cache)
        {
            [Cached([|{{region}}|])]
            public partial Task<int> GetAsync(int id);
            private Task<int> GetCoreAsync(int id) => Task.FromResult(id);
        }
        """,
        """
        public partial class Service(HybridCache cache)
        {
            [Cached("items")]
            public partial Task<int> GetAsync(int id);
            private Task<int> GetCoreAsync(int id) => Task.FromResult(id);
        }
        """);

    [Fact]
    public void CG0011_negative_ttl() => Check("CG0011",
        """
        public partial class Service(HybridCache cache)
        {
            [Cached("items", [|TtlSeconds = -5|])]
            public partial Task<int> GetAsync(int id);
            private Task<int> GetCoreAsync(int id) => Task.FromResult(id);
        }
        """,
        """
        public partial class Service(HybridCache cache)
        {
            [Cached("items", TtlSeconds = 5)]
            public partial Task<int> GetAsync(int id);
            private Task<int> GetCoreAsync(int id) => Task.FromResult(id);
        }
        """);

    [Fact]
    public void CG0012_default_key_argument_has_no_stable_text_form() => Check("CG0012",
        """
        public sealed class Query { public int Page { get; init; } }
        public partial class Service(HybridCache cache)
        {
            [Cached("items")]
            public partial Task<int> FindAsync([|Query query|], CancellationToken ct);
            private Task<int> FindCoreAsync(Query query, CancellationToken ct) => Task.FromResult(query.Page);
        }
        """,
        """
        public sealed class Query { public int Page { get; init; } }
        public partial class Service(HybridCache cache)
        {
            [Cached("items", Key = "page:{query.Page}")]
            public partial Task<int> FindAsync(Query query, CancellationToken ct);
            private Task<int> FindCoreAsync(Query query, CancellationToken ct) => Task.FromResult(query.Page);
        }
        """);

    [Fact]
    public void CG0012_unconstrained_generic_argument() => Check("CG0012",
        """
        public partial class Service<T>(HybridCache cache)
        {
            [Cached("items")]
            public partial Task<int> FindAsync([|T value|]);
            private Task<int> FindCoreAsync(T value) => Task.FromResult(0);
        }
        """,
        """
        public partial class Service<T>(HybridCache cache) where T : IFormattable
        {
            [Cached("items")]
            public partial Task<int> FindAsync(T value);
            private Task<int> FindCoreAsync(T value) => Task.FromResult(0);
        }
        """);

    [Fact]
    public void CG0013_evicted_region_is_cached_nowhere() => Check("CG0013",
        """
        public partial class Service(HybridCache cache)
        {
            [Cached("posts")]
            public partial Task<int> CountAsync();
            private Task<int> CountCoreAsync() => Task.FromResult(0);
            [InvalidatesCache([|"post"|])]
            public partial Task SaveAsync(int id);
            private Task SaveCoreAsync(int id) => Task.CompletedTask;
        }
        """,
        """
        public partial class Service(HybridCache cache)
        {
            [Cached("posts")]
            public partial Task<int> CountAsync();
            private Task<int> CountCoreAsync() => Task.FromResult(0);
            [InvalidatesCache("posts")]
            public partial Task SaveAsync(int id);
            private Task SaveCoreAsync(int id) => Task.CompletedTask;
        }
        """,
        severity: DiagnosticSeverity.Warning);

    [Fact]
    public void CG0014_keyed_eviction_names_one_region() => Check("CG0014",
        """
        public partial class Service(HybridCache cache)
        {
            [Cached("posts", Key = "post:{id}")]
            public partial Task<int> GetAsync(int id);
            private Task<int> GetCoreAsync(int id) => Task.FromResult(id);
            [Cached("lists")]
            public partial Task<int> CountAsync();
            private Task<int> CountCoreAsync() => Task.FromResult(0);
            [InvalidatesCache("posts", "lists", [|Key = "post:{id}"|])]
            public partial Task SaveAsync(int id);
            private Task SaveCoreAsync(int id) => Task.CompletedTask;
        }
        """,
        """
        public partial class Service(HybridCache cache)
        {
            [Cached("posts", Key = "post:{id}")]
            public partial Task<int> GetAsync(int id);
            private Task<int> GetCoreAsync(int id) => Task.FromResult(id);
            [Cached("lists")]
            public partial Task<int> CountAsync();
            private Task<int> CountCoreAsync() => Task.FromResult(0);
            [InvalidatesCache("posts", Key = "post:{id}")]
            public partial Task SaveAsync(int id);
            private Task SaveCoreAsync(int id) => Task.CompletedTask;
        }
        """);

    [Fact]
    public void CG0015_cached_and_invalidates_on_one_method() => Check("CG0015",
        """
        public partial class Service(HybridCache cache)
        {
            [Cached("items")]
            [InvalidatesCache("items")]
            public partial Task<int> [|GetAsync|](int id);
            private Task<int> GetCoreAsync(int id) => Task.FromResult(id);
        }
        """,
        """
        public partial class Service(HybridCache cache)
        {
            [Cached("items")]
            public partial Task<int> GetAsync(int id);
            private Task<int> GetCoreAsync(int id) => Task.FromResult(id);
        }
        """);

    [Theory]
    [InlineData("post:{id")]
    [InlineData("post:id}")]
    [InlineData("post:{}")]
    [InlineData("post:{id:D4}")]
    public void CG0016_malformed_key_template(string template) => Check("CG0016",
        $$"""
        public partial class Service(HybridCache cache)
        {
            [Cached("items", [|Key = "{{template}}"|])]
            public partial Task<int> GetAsync(int id);
            private Task<int> GetCoreAsync(int id) => Task.FromResult(id);
        }
        """,
        """
        public partial class Service(HybridCache cache)
        {
            [Cached("items", Key = "post:{id}")]
            public partial Task<int> GetAsync(int id);
            private Task<int> GetCoreAsync(int id) => Task.FromResult(id);
        }
        """);

    [Fact]
    public void CG0017_parameter_hides_the_primary_constructor_cache() => Check("CG0017",
        """
        public partial class Service(HybridCache cache)
        {
            [Cached("items")]
            public partial Task<int> [|GetAsync|](int cache);
            private Task<int> GetCoreAsync(int cache) => Task.FromResult(cache);
        }
        """,
        """
        public partial class Service(HybridCache cache)
        {
            [Cached("items")]
            public partial Task<int> GetAsync(int id);
            private Task<int> GetCoreAsync(int id) => Task.FromResult(id);
        }
        """);

    public sealed class MutableResult : TheoryData<string, string>
    {
        public MutableResult()
        {
            Add("System.Collections.Generic.List<Post>", "new()");
            Add("Post[]", "[]");
            Add("Note", "new()"); // sealed, but not marked immutable
            Add("MarkedButOpen", "new()"); // marked, but a subclass could mutate
            Add("System.Collections.Generic.IReadOnlyList<Note>", "[]");
            Add("System.Collections.Generic.KeyValuePair<string, int>", "default");
            Add("object", "new()");
        }
    }

    [Theory]
    [ClassData(typeof(MutableResult))]
    public void CG0018_cached_type_is_not_known_to_be_immutable(string type, string value) => Check("CG0018",
        $$"""
        [System.ComponentModel.ImmutableObject(true)] public sealed record Post(int Id);
        public sealed class Note { public string Text { get; set; } = ""; }
        [System.ComponentModel.ImmutableObject(true)] public class MarkedButOpen { }
        public partial class Service(HybridCache cache)
        {
            [Cached("items")]
            public partial Task<[|{{type}}|]> GetAsync(int id);
            private Task<{{type}}> GetCoreAsync(int id) => Task.FromResult<{{type}}>({{value}});
        }
        """,
        """
        [System.ComponentModel.ImmutableObject(true)] public sealed record Post(int Id);
        public partial class Service(HybridCache cache)
        {
            [Cached("items")]
            public partial Task<System.Collections.Generic.IReadOnlyList<Post>> GetAsync(int id);
            private Task<System.Collections.Generic.IReadOnlyList<Post>> GetCoreAsync(int id) => Task.FromResult<System.Collections.Generic.IReadOnlyList<Post>>([]);
        }
        """,
        severity: DiagnosticSeverity.Warning);

    [Theory]
    [InlineData("Note", "mark it [ImmutableObject(true)], or return", "sealed")] // sealed already: only the attribute is missing
    [InlineData("MarkedButOpen", "make it sealed (a subclass", "[ImmutableObject(true)]")]
    [InlineData("Open", "make it sealed and mark it [ImmutableObject(true)]", null)]
    [InlineData("System.Collections.Generic.IReadOnlyList<Note>", "element type 'Note' shareable (mark it [ImmutableObject(true)]", "make it sealed")]
    [InlineData("System.Collections.Generic.List<Post>", "return an IReadOnlyList<T>", null)]
    public void CG0018_AdviceNamesOnlyWhatTheTypeLacks(string type, string advice, string? notAdvised)
    {
        GeneratorRun run = GeneratorHarness.Run(Prelude + $$"""
            [System.ComponentModel.ImmutableObject(true)] public sealed record Post(int Id);
            public sealed record Note(string Text);
            [System.ComponentModel.ImmutableObject(true)] public class MarkedButOpen { }
            public class Open { }
            public partial class Service(HybridCache cache)
            {
                [Cached("items")]
                public partial Task<{{type}}> GetAsync(int id);
                private Task<{{type}}> GetCoreAsync(int id) => Task.FromResult<{{type}}>(default!);
            }
            """);
        string message = Assert.Single(run.CacheGenDiagnostics, d => d.Id == "CG0018").GetMessage();
        Assert.Contains(advice, message);
        if (notAdvised is not null)
            Assert.DoesNotContain(notAdvised, message[message.IndexOf("never change", StringComparison.Ordinal)..]);
    }

    [Theory]
    [InlineData("string")]
    [InlineData("int?")]
    [InlineData("DateTimeOffset")]
    [InlineData("System.Collections.Generic.KeyValuePair<int, long>")]
    [InlineData("Post?")]
    [InlineData("System.Collections.Generic.IEnumerable<Post>")]
    [InlineData("JsonPayload")]
    public void CG0018_is_silent_for_types_shared_on_hit(string type)
    {
        GeneratorRun run = GeneratorHarness.Run(Compile(Prelude + $$"""
            [System.ComponentModel.ImmutableObject(true)] public sealed record Post(int Id);
            public partial class Service(HybridCache cache)
            {
                [Cached("items")]
                public partial ValueTask<{{type}}> GetAsync(int id);
                private ValueTask<{{type}}> GetCoreAsync(int id) => default;

                [Cached("items")]
                public partial T Get<T>(int id);
                private T GetCore<T>(int id) => default!;
            }
            """, unsafeCode: false));
        Assert.Empty(run.CacheGenDiagnostics);
        Assert.Empty(run.CompilationDiagnostics);
    }

    [Theory]
    [InlineData("System.Collections.Generic.IAsyncEnumerable<int>", "Empty()", "static async System.Collections.Generic.IAsyncEnumerable<int> Empty() { await Task.Yield(); yield break; }")]
    [InlineData("System.Collections.Generic.IAsyncEnumerator<int>", "Empty().GetAsyncEnumerator()", "static async System.Collections.Generic.IAsyncEnumerable<int> Empty() { await Task.Yield(); yield break; }")]
    [InlineData("System.Runtime.CompilerServices.ConfiguredTaskAwaitable", "Task.CompletedTask.ConfigureAwait(false)", "")]
    public void CG0019_invalidation_of_work_that_runs_after_returning(string type, string value, string helper) => Check("CG0019",
        $$"""
        public partial class Service(HybridCache cache)
        {
            [Cached("items")]
            public partial Task<int> CountAsync();
            private Task<int> CountCoreAsync() => Task.FromResult(0);
            [InvalidatesCache("items")]
            public partial [|{{type}}|] Import(int id);
            private {{type}} ImportCore(int id) => {{value}};
            {{helper}}
        }
        """,
        """
        public partial class Service(HybridCache cache)
        {
            [Cached("items")]
            public partial Task<int> CountAsync();
            private Task<int> CountCoreAsync() => Task.FromResult(0);
            [InvalidatesCache("items")]
            public partial Task<int> ImportAsync(int id);
            private Task<int> ImportCoreAsync(int id) => Task.FromResult(id);
        }
        """);

    [Fact]
    public void CG0019_iterator_core_method() => Check("CG0019",
        """
        public partial class Service(HybridCache cache)
        {
            [Cached("items")]
            public partial Task<int> CountAsync();
            private Task<int> CountCoreAsync() => Task.FromResult(0);
            [InvalidatesCache("items")]
            public partial [|System.Collections.Generic.IEnumerable<int>|] Import(int id);
            private System.Collections.Generic.IEnumerable<int> ImportCore(int id) { yield return id; }
        }
        """,
        """
        public partial class Service(HybridCache cache)
        {
            [Cached("items")]
            public partial Task<int> CountAsync();
            private Task<int> CountCoreAsync() => Task.FromResult(0);
            [InvalidatesCache("items")]
            public partial System.Collections.Generic.IReadOnlyList<int> Import(int id);
            private System.Collections.Generic.IReadOnlyList<int> ImportCore(int id) => [id];
        }
        """);

    [Fact]
    public void CG0019_is_silent_for_a_materialized_sequence()
    {
        GeneratorRun run = GeneratorHarness.Run(Compile(Prelude + """
            public partial class Service(HybridCache cache)
            {
                [Cached("items")]
                public partial Task<int> CountAsync();
                private Task<int> CountCoreAsync() => Task.FromResult(0);
                [InvalidatesCache("items")]
                public partial System.Collections.Generic.IEnumerable<int> Import(int id);
                private System.Collections.Generic.IEnumerable<int> ImportCore(int id) => new[] { id };
            }
            """, unsafeCode: false));
        Assert.Empty(run.CacheGenDiagnostics);
        Assert.Empty(run.CompilationDiagnostics);
    }

    [Fact]
    public void CG0019_is_silent_when_only_a_local_function_of_the_core_method_is_an_iterator()
    {
        GeneratorRun run = GeneratorHarness.Run(Compile(Prelude + """
            public partial class Service(HybridCache cache)
            {
                [Cached("items")]
                public partial Task<int> CountAsync();
                private Task<int> CountCoreAsync() => Task.FromResult(0);
                [InvalidatesCache("items")]
                public partial System.Collections.Generic.IEnumerable<int> Import(int id);
                private System.Collections.Generic.IEnumerable<int> ImportCore(int id)
                {
                    return new System.Collections.Generic.List<int>(Ids());
                    System.Collections.Generic.IEnumerable<int> Ids() { yield return id; }
                }
            }
            """, unsafeCode: false));
        Assert.Empty(run.CacheGenDiagnostics);
        Assert.Empty(run.CompilationDiagnostics);
    }

    [Fact]
    public void Diagnostics_are_reported_in_the_users_source_tree()
    {
        // The compiler applies #pragma warning and .editorconfig severities only to diagnostics located in a
        // syntax tree of the compilation, so diagnostics must keep the user's tree, not a copied file path.
        GeneratorRun run = GeneratorHarness.Run(Prelude + """
            public partial class Service(HybridCache cache)
            {
                [Cached("posts")]
                public partial Task<int> CountAsync();
                private Task<int> CountCoreAsync() => Task.FromResult(0);
                [InvalidatesCache("typo")]
                public partial Task SaveAsync(int id);
                private Task SaveCoreAsync(int id) => Task.CompletedTask;
            }
            """);
        Diagnostic warning = Assert.Single(run.CacheGenDiagnostics);
        Assert.Equal("CG0013", warning.Id);
        Assert.True(warning.Location.IsInSource);
        Assert.Same(run.Input.SyntaxTrees.Single(), warning.Location.SourceTree);
    }

    private static void Check(string id, string misuse, string corrected, bool allowCSharpErrorsInUserCode = false,
        DiagnosticSeverity severity = DiagnosticSeverity.Error, bool unsafeCode = false, int expectedCount = 1)
    {
        (string source, TextSpan expectedSpan) = DiagnosticCheck.ExtractSpan(Prelude + misuse);
        GeneratorRun run = GeneratorHarness.Run(Compile(source, unsafeCode));

        // The generator reports everything (so it survives a compilation with C# errors) but what needs the whole app.
        Assert.All(run.GeneratorDiagnostics, d => Assert.DoesNotContain(DiagnosticDescriptors.ReportedByAnalyzer, r => r.Id == d.Id));
        Assert.All(run.AnalyzerDiagnostics, d => Assert.Contains(DiagnosticDescriptors.ReportedByAnalyzer, r => r.Id == d.Id));
        Diagnostic[] found = run.CacheGenDiagnostics.Where(d => d.Id == id).ToArray();
        Assert.True(found.Length == expectedCount,
            $"Expected {expectedCount} × {id}; got: {string.Join("; ", run.CacheGenDiagnostics.Select(d => d.ToString()))}");
        Assert.Contains(found, d => d.Location.SourceSpan == expectedSpan);
        Assert.All(found, d =>
        {
            Assert.Equal(severity, d.Severity);
            Assert.False(string.IsNullOrWhiteSpace(d.GetMessage()));
            Assert.DoesNotMatch(@"\{\d+\}", d.GetMessage()); // every message argument was filled in
        });

        // Whatever the misuse, the generated code itself never carries a C# error.
        var generatedTrees = run.Output.SyntaxTrees.Except(run.Input.SyntaxTrees).ToHashSet();
        Diagnostic[] errors = run.Output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToArray();
        Assert.DoesNotContain(errors, d => d.Location.SourceTree is { } tree && generatedTrees.Contains(tree));
        if (!allowCSharpErrorsInUserCode)
            Assert.Empty(errors);

        GeneratorRun fixedRun = GeneratorHarness.Run(Compile(Prelude + corrected, unsafeCode));
        Assert.Empty(fixedRun.CacheGenDiagnostics);
        Assert.Empty(fixedRun.CompilationDiagnostics);
        Assert.NotEmpty(fixedRun.Sources);
    }

    private static Microsoft.CodeAnalysis.CSharp.CSharpCompilation Compile(string source, bool unsafeCode)
    {
        var compilation = GeneratorHarness.Compile(source);
        return unsafeCode ? compilation.WithOptions(compilation.Options.WithAllowUnsafe(true)) : compilation;
    }

}
