using CacheGen.Generator.Diagnostics;
using CacheGen.Generator.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace CacheGen.Generator.Tests;

/// <summary>
/// Tags, typed eviction and write-through: CG0024-CG0029 fire at the user's code with a message naming what to change,
/// the key-template diagnostics apply to tag templates too, and the corrected code is silent and compiles cleanly.
/// </summary>
public sealed class TagAndTargetDiagnosticTests
{
    private const string Prelude = """
        using System;
        using System.Threading;
        using System.Threading.Tasks;
        using CacheGen;
        using Microsoft.Extensions.Caching.Hybrid;
        namespace App;

        public sealed class Post
        {
            public int Id { get; init; }
            public int AuthorId { get; init; }
        }

        """;

    // ---- CG0024: an evicted tag no cached method declares ----------------------------------------------------------

    [Fact]
    public void CG0024_evicted_tag_is_declared_by_no_cached_method() => Check("CG0024",
        """
        public partial class Service(HybridCache cache)
        {
            [Cached("posts", Key = "post:{id}", Tags = ["post:{id}"])]
            public partial Task<int> GetAsync(int id);
            private Task<int> GetCoreAsync(int id) => Task.FromResult(id);
            [InvalidatesCache(Tags = ["post:{post.Id}", [|"author:{post.AuthorId}"|]])]
            public partial Task SaveAsync(Post post);
            private Task SaveCoreAsync(Post post) => Task.CompletedTask;
        }
        """,
        """
        public partial class Service(HybridCache cache)
        {
            [Cached("posts", Key = "post:{id}", Tags = ["post:{id}", "author:{authorId}"])]
            public partial Task<int> GetAsync(int id, int authorId);
            private Task<int> GetCoreAsync(int id, int authorId) => Task.FromResult(id);
            [InvalidatesCache(Tags = ["post:{post.Id}", "author:{post.AuthorId}"])]
            public partial Task SaveAsync(Post post);
            private Task SaveCoreAsync(Post post) => Task.CompletedTask;
        }
        """,
        ["'author:{post.AuthorId}'", "'SaveAsync'"]);

    [Theory]
    [InlineData("post-{postId}", "int postId")] // the literal text differs
    [InlineData("Post:{postId}", "int postId")] // in case too: tags are compared ordinally
    [InlineData("post:{postId}", "string postId")] // "7" is the same text, but a string placeholder can write any text
    [InlineData("post:{postId}", "long postId")]
    [InlineData("post:{postId}:", "int postId")]
    public void CG0024_compares_literal_text_and_placeholder_types(string evicted, string parameter) => Check("CG0024",
        $$"""
        public partial class Service(HybridCache cache)
        {
            [Cached("posts", Tags = ["post:{id}"])]
            public partial Task<int> GetAsync(int id);
            private Task<int> GetCoreAsync(int id) => Task.FromResult(id);
            [InvalidatesCache(Tags = [[|"{{evicted}}"|]])]
            public partial Task SaveAsync({{parameter}});
            private Task SaveCoreAsync({{parameter}}) => Task.CompletedTask;
        }
        """,
        """
        public partial class Service(HybridCache cache)
        {
            [Cached("posts", Tags = ["post:{id}"])]
            public partial Task<int> GetAsync(int id);
            private Task<int> GetCoreAsync(int id) => Task.FromResult(id);
            [InvalidatesCache(Tags = ["post:{postId}"])]
            public partial Task SaveAsync(int postId);
            private Task SaveCoreAsync(int postId) => Task.CompletedTask;
        }
        """,
        [$"'{evicted}'"]);

    [Theory]
    [InlineData("post:{postId}", "int postId")] // another name, the same type
    [InlineData("post:{postId}", "int? postId")] // nullable or not: a value writes the same text
    [InlineData("post:{post.Id}", "Post post")] // read as post?.Id, an int?
    [InlineData("post:{post.Id}", "Post? post")]
    public void Evicted_tag_matches_a_declared_tag_whatever_its_placeholders_are_called(string evicted, string parameter)
    {
        GeneratorRun run = GeneratorHarness.Run(Prelude + $$"""
            public partial class Service(HybridCache cache)
            {
                [Cached("posts", Tags = ["post:{id}"])]
                public partial Task<int> GetAsync(int id);
                private Task<int> GetCoreAsync(int id) => Task.FromResult(id);
                [InvalidatesCache(Tags = ["{{evicted}}"])]
                public partial Task SaveAsync({{parameter}});
                private Task SaveCoreAsync({{parameter}}) => Task.CompletedTask;
            }
            """);
        Assert.Empty(run.CacheGenDiagnostics);
        Assert.Empty(run.CompilationDiagnostics);
        // Evicted in the region that declares it (an evicted tag is qualified by each region declaring it).
        Assert.Contains("\"{posts}:\"", run.Source("App.Service.SaveAsync"));
    }

    [Fact]
    public void A_bad_placeholder_in_an_evicted_tag_or_key_is_reported_once_not_also_as_matching_nothing()
    {
        GeneratorRun run = GeneratorHarness.Run(Prelude + """
            public partial class Service(HybridCache cache)
            {
                [Cached("posts", Key = "post:{id}", Tags = ["post:{id}"])]
                public partial Task<int> GetAsync(int id);
                private Task<int> GetCoreAsync(int id) => Task.FromResult(id);
                [InvalidatesCache(Tags = ["post:{pst.Id}"])]
                [InvalidatesCache("posts", Key = "post:{pst.Id}")]
                public partial Task SaveAsync(Post post);
                private Task SaveCoreAsync(Post post) => Task.CompletedTask;
            }
            """);
        // The template is wrong in one place, which CG0007 names; "it matches no cached template" only repeats it.
        Assert.Equal(["CG0007", "CG0007"], run.CacheGenDiagnostics.Select(d => d.Id));
    }

    // ---- CG0025: an evicted key template no cached method uses ------------------------------------------------------

    [Fact]
    public void CG0025_evicted_key_template_matches_no_cached_key_is_a_warning() => Check("CG0025",
        """
        public partial class Service(HybridCache cache)
        {
            [Cached("posts", Key = "post:{id}")]
            public partial Task<int> GetAsync(int id);
            private Task<int> GetCoreAsync(int id) => Task.FromResult(id);
            [InvalidatesCache("posts", [|Key = "posts:{post.Id}"|])]
            public partial Task SaveAsync(Post post);
            private Task SaveCoreAsync(Post post) => Task.CompletedTask;
        }
        """,
        """
        public partial class Service(HybridCache cache)
        {
            [Cached("posts", Key = "post:{id}")]
            public partial Task<int> GetAsync(int id);
            private Task<int> GetCoreAsync(int id) => Task.FromResult(id);
            [InvalidatesCache("posts", Key = "post:{post.Id}")]
            public partial Task SaveAsync(Post post);
            private Task SaveCoreAsync(Post post) => Task.CompletedTask;
        }
        """,
        ["'posts:{post.Id}'", "'SaveAsync'", "'posts'"], severity: DiagnosticSeverity.Warning);

    [Fact]
    public void CG0025_the_key_must_be_cached_in_the_region_it_is_evicted_from() => Check("CG0025",
        """
        public partial class Service(HybridCache cache)
        {
            [Cached("posts", Key = "post:{id}")]
            public partial Task<int> GetAsync(int id);
            private Task<int> GetCoreAsync(int id) => Task.FromResult(id);
            [Cached("lists")]
            public partial Task<int> CountAsync();
            private Task<int> CountCoreAsync() => Task.FromResult(0);
            [InvalidatesCache("lists", [|Key = "post:{postId}"|])]
            public partial Task SaveAsync(int postId);
            private Task SaveCoreAsync(int postId) => Task.CompletedTask;
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
            [InvalidatesCache("posts", Key = "post:{postId}")]
            public partial Task SaveAsync(int postId);
            private Task SaveCoreAsync(int postId) => Task.CompletedTask;
        }
        """,
        ["'lists'"], severity: DiagnosticSeverity.Warning);

    [Fact]
    public void CG0025_is_located_in_the_users_source_tree_so_it_can_be_suppressed_there()
    {
        // The compiler applies #pragma warning and .editorconfig severities only to a diagnostic located in a syntax
        // tree of the compilation; at a bare file path the warning could be silenced only project-wide (NoWarn).
        GeneratorRun run = GeneratorHarness.Run(Prelude + """
            public partial class Service(HybridCache cache)
            {
                [Cached("posts", Key = "post:{id}")]
                public partial Task<int> GetAsync(int id);
                private Task<int> GetCoreAsync(int id) => Task.FromResult(id);
                [InvalidatesCache("posts", Key = "posts:{id}")]
                public partial Task SaveAsync(int id);
                private Task SaveCoreAsync(int id) => Task.CompletedTask;
            }
            """);
        Assert.Empty(run.AnalyzerDiagnostics);
        Diagnostic warning = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal("CG0025", warning.Id);
        Assert.Same(run.Input.SyntaxTrees.Single(), warning.Location.SourceTree);
    }

    // ---- CG0026: Method / UpdatesCache names no cached method of the type ------------------------------------------

    [Fact]
    public void CG0026_typed_eviction_names_a_method_that_is_not_cached() => Check("CG0026",
        """
        public partial class Service(HybridCache cache)
        {
            [Cached("posts", Key = "post:{id}")]
            public partial Task<int> GetAsync(int id);
            private Task<int> GetCoreAsync(int id) => Task.FromResult(id);
            [InvalidatesCache([|Method = nameof(GetCoreAsync)|])]
            public partial Task DeleteAsync(int id);
            private Task DeleteCoreAsync(int id) => Task.CompletedTask;
        }
        """,
        """
        public partial class Service(HybridCache cache)
        {
            [Cached("posts", Key = "post:{id}")]
            public partial Task<int> GetAsync(int id);
            private Task<int> GetCoreAsync(int id) => Task.FromResult(id);
            [InvalidatesCache(Method = nameof(GetAsync))]
            public partial Task DeleteAsync(int id);
            private Task DeleteCoreAsync(int id) => Task.CompletedTask;
        }
        """,
        ["'DeleteAsync'", "'GetCoreAsync'", "'Service'"]);

    [Fact]
    public void CG0026_write_through_names_no_method_of_the_type() => Check("CG0026",
        """
        public partial class Service(HybridCache cache)
        {
            [Cached("posts", Key = "post:{id}")]
            public partial Task<int> GetAsync(int id);
            private Task<int> GetCoreAsync(int id) => Task.FromResult(id);
            [UpdatesCache([|"GetAsnyc"|])]
            public partial Task<int> SetAsync(int id);
            private Task<int> SetCoreAsync(int id) => Task.FromResult(id);
        }
        """,
        """
        public partial class Service(HybridCache cache)
        {
            [Cached("posts", Key = "post:{id}")]
            public partial Task<int> GetAsync(int id);
            private Task<int> GetCoreAsync(int id) => Task.FromResult(id);
            [UpdatesCache(nameof(GetAsync))]
            public partial Task<int> SetAsync(int id);
            private Task<int> SetCoreAsync(int id) => Task.FromResult(id);
        }
        """,
        ["'SetAsync'", "'GetAsnyc'"]);

    [Fact]
    public void CG0026_a_cached_method_of_another_type_is_not_a_target() => Check("CG0026",
        """
        public partial class Reader(HybridCache cache)
        {
            [Cached("posts", Key = "post:{id}")]
            public partial Task<int> GetAsync(int id);
            private Task<int> GetCoreAsync(int id) => Task.FromResult(id);
        }
        public partial class Writer(HybridCache cache)
        {
            [InvalidatesCache([|Method = nameof(Reader.GetAsync)|])]
            public partial Task DeleteAsync(int id);
            private Task DeleteCoreAsync(int id) => Task.CompletedTask;
        }
        """,
        """
        public partial class Reader(HybridCache cache)
        {
            [Cached("posts", Key = "post:{id}")]
            public partial Task<int> GetAsync(int id);
            private Task<int> GetCoreAsync(int id) => Task.FromResult(id);
        }
        public partial class Writer(HybridCache cache)
        {
            [InvalidatesCache("posts", Key = "post:{id}")]
            public partial Task DeleteAsync(int id);
            private Task DeleteCoreAsync(int id) => Task.CompletedTask;
        }
        """,
        ["'Writer'"]);

    // ---- CG0027: the writer cannot build the target's entry ---------------------------------------------------------

    [Theory]
    [InlineData("int postId", "'id' (int)")] // no parameter of that name
    [InlineData("long id", "'id' (int)")] // that name, another type
    [InlineData("int? id", "'id' (int)")]
    public void CG0027_typed_eviction_lacks_a_key_parameter(string parameter, string named) => Check("CG0027",
        $$"""
        public partial class Service(HybridCache cache)
        {
            [Cached("posts", Key = "post:{id}")]
            public partial Task<int> GetAsync(int id, CancellationToken ct = default);
            private Task<int> GetCoreAsync(int id, CancellationToken ct) => Task.FromResult(id);
            [InvalidatesCache([|Method = nameof(GetAsync)|])]
            public partial Task DeleteAsync({{parameter}});
            private Task DeleteCoreAsync({{parameter}}) => Task.CompletedTask;
        }
        """,
        """
        public partial class Service(HybridCache cache)
        {
            [Cached("posts", Key = "post:{id}")]
            public partial Task<int> GetAsync(int id, CancellationToken ct = default);
            private Task<int> GetCoreAsync(int id, CancellationToken ct) => Task.FromResult(id);
            [InvalidatesCache(Method = nameof(GetAsync))]
            public partial Task DeleteAsync(int id);
            private Task DeleteCoreAsync(int id) => Task.CompletedTask;
        }
        """,
        ["'DeleteAsync'", "'GetAsync'", named]);

    [Fact]
    public void CG0027_default_key_uses_every_argument() => Check("CG0027",
        """
        public partial class Service(HybridCache cache)
        {
            [Cached("posts")]
            public partial Task<int> FindAsync(int id, string lang);
            private Task<int> FindCoreAsync(int id, string lang) => Task.FromResult(id);
            [InvalidatesCache([|Method = nameof(FindAsync)|])]
            public partial Task DeleteAsync(int id);
            private Task DeleteCoreAsync(int id) => Task.CompletedTask;
        }
        """,
        """
        public partial class Service(HybridCache cache)
        {
            [Cached("posts")]
            public partial Task<int> FindAsync(int id, string lang);
            private Task<int> FindCoreAsync(int id, string lang) => Task.FromResult(id);
            [InvalidatesCache(Method = nameof(FindAsync))]
            public partial Task DeleteAsync(int id, string lang);
            private Task DeleteCoreAsync(int id, string lang) => Task.CompletedTask;
        }
        """,
        ["'lang' (string)"]);

    [Fact]
    public void CG0027_typed_eviction_of_a_generic_method() => Check("CG0027",
        """
        public partial class Service(HybridCache cache)
        {
            [Cached("posts", Key = "post:{id}")]
            public partial Task<T?> GetAsync<T>(int id);
            private Task<T?> GetCoreAsync<T>(int id) => Task.FromResult(default(T));
            [InvalidatesCache([|Method = nameof(GetAsync)|])]
            public partial Task DeleteAsync(int id);
            private Task DeleteCoreAsync(int id) => Task.CompletedTask;
        }
        """,
        """
        public partial class Service(HybridCache cache)
        {
            [Cached("posts", Key = "post:{id}")]
            public partial Task<T?> GetAsync<T>(int id);
            private Task<T?> GetCoreAsync<T>(int id) => Task.FromResult(default(T));
            [InvalidatesCache("posts", Key = "post:{id}")]
            public partial Task DeleteAsync(int id);
            private Task DeleteCoreAsync(int id) => Task.CompletedTask;
        }
        """,
        ["'GetAsync' is generic"]);

    [Fact]
    public void CG0027_write_through_must_also_build_the_targets_tags() => Check("CG0027",
        """
        public partial class Service(HybridCache cache)
        {
            [Cached("posts", Key = "post:{id}", Tags = ["author:{authorId}"])]
            public partial Task<int> GetAsync(int id, int authorId);
            private Task<int> GetCoreAsync(int id, int authorId) => Task.FromResult(id);
            [InvalidatesCache(Method = nameof(GetAsync))]
            public partial Task DeleteAsync(int id);
            private Task DeleteCoreAsync(int id) => Task.CompletedTask;
            [UpdatesCache([|nameof(GetAsync)|])]
            public partial Task<int> SetAsync(int id);
            private Task<int> SetCoreAsync(int id) => Task.FromResult(id);
        }
        """,
        """
        public partial class Service(HybridCache cache)
        {
            [Cached("posts", Key = "post:{id}", Tags = ["author:{authorId}"])]
            public partial Task<int> GetAsync(int id, int authorId);
            private Task<int> GetCoreAsync(int id, int authorId) => Task.FromResult(id);
            [InvalidatesCache(Method = nameof(GetAsync))]
            public partial Task DeleteAsync(int id);
            private Task DeleteCoreAsync(int id) => Task.CompletedTask;
            [UpdatesCache(nameof(GetAsync))]
            public partial Task<int> SetAsync(int id, int authorId);
            private Task<int> SetCoreAsync(int id, int authorId) => Task.FromResult(id);
        }
        """,
        ["'SetAsync'", "key or tags use parameter 'authorId' (int)"]);

    [Fact]
    public void CG0027_write_through_to_several_overloads_it_could_build() => Check("CG0027",
        """
        public partial class Service(HybridCache cache)
        {
            [Cached("posts", Key = "post:{id}")]
            public partial Task<int> GetAsync(int id);
            private Task<int> GetCoreAsync(int id) => Task.FromResult(id);
            [Cached("posts", Key = "post:{id}:{lang}")]
            public partial Task<int> GetAsync(int id, string lang);
            private Task<int> GetCoreAsync(int id, string lang) => Task.FromResult(id);
            [UpdatesCache([|nameof(GetAsync)|])]
            public partial Task<int> SetAsync(int id, string lang);
            private Task<int> SetCoreAsync(int id, string lang) => Task.FromResult(id);
        }
        """,
        """
        public partial class Service(HybridCache cache)
        {
            [Cached("posts", Key = "post:{id}")]
            public partial Task<int> GetAsync(int id);
            private Task<int> GetCoreAsync(int id) => Task.FromResult(id);
            [Cached("posts", Key = "post:{id}:{lang}")]
            public partial Task<int> GetTranslatedAsync(int id, string lang);
            private Task<int> GetTranslatedCoreAsync(int id, string lang) => Task.FromResult(id);
            [UpdatesCache(nameof(GetTranslatedAsync))]
            public partial Task<int> SetAsync(int id, string lang);
            private Task<int> SetCoreAsync(int id, string lang) => Task.FromResult(id);
        }
        """,
        ["2 overloads of 'GetAsync'"]);

    [Fact]
    public void Typed_eviction_of_an_overloaded_method_needs_only_one_overload_it_can_build()
    {
        GeneratorRun run = GeneratorHarness.Run(Prelude + """
            public partial class Service(HybridCache cache)
            {
                [Cached("posts", Key = "post:{id}")]
                public partial Task<int> GetAsync(int id);
                private Task<int> GetCoreAsync(int id) => Task.FromResult(id);
                [Cached("posts", Key = "post:{id}:{lang}")]
                public partial Task<int> GetAsync(int id, string lang);
                private Task<int> GetCoreAsync(int id, string lang) => Task.FromResult(id);
                [InvalidatesCache(Method = nameof(GetAsync))]
                public partial Task DeleteAsync(int id);
                private Task DeleteCoreAsync(int id) => Task.CompletedTask;
            }
            """);
        // Which overloads are evicted is checked on running code (Behaviour/PreciseInvalidationTests).
        Assert.Empty(run.CacheGenDiagnostics);
        Assert.Empty(run.CompilationDiagnostics);
    }

    // ---- CG0028: the write-through's result is not the cached value -------------------------------------------------

    [Theory]
    [InlineData("Task<string>", "Task.FromResult(\"\")", "'string'")]
    [InlineData("Task<long>", "Task.FromResult(0L)", "'long'")]
    [InlineData("Task", "Task.CompletedTask", "no value")]
    [InlineData("void", "{ }", "no value")]
    public void CG0028_write_through_result_differs_from_the_cached_value(string returnType, string body, string returns) => Check("CG0028",
        $$"""
        public partial class Service(HybridCache cache)
        {
            [Cached("posts", Key = "post:{id}")]
            public partial Task<int> GetAsync(int id);
            private Task<int> GetCoreAsync(int id) => Task.FromResult(id);
            [UpdatesCache([|nameof(GetAsync)|])]
            public partial {{returnType}} SetAsync(int id);
            private {{returnType}} SetCoreAsync(int id) {{(body.StartsWith('{') ? body : "=> " + body + ";")}}
        }
        """,
        """
        public partial class Service(HybridCache cache)
        {
            [Cached("posts", Key = "post:{id}")]
            public partial Task<int> GetAsync(int id);
            private Task<int> GetCoreAsync(int id) => Task.FromResult(id);
            [UpdatesCache(nameof(GetAsync))]
            public partial ValueTask<int> SetAsync(int id);
            private ValueTask<int> SetCoreAsync(int id) => new(id);
        }
        """,
        ["'SetAsync'", "'GetAsync'", "caches 'int'", "returns " + returns]);

    // ---- CG0029: an [InvalidatesCache] that names nothing -----------------------------------------------------------

    [Theory]
    [InlineData("[|InvalidatesCache|]")]
    [InlineData("[|InvalidatesCache()|]")]
    [InlineData("[|InvalidatesCache(Tags = null)|]")]
    [InlineData("[|InvalidatesCache(Tags = [])|]")] // no tags are no more than no Tags
    public void CG0029_invalidation_names_nothing_to_evict(string attribute) => Check("CG0029",
        $$"""
        public partial class Service(HybridCache cache)
        {
            [Cached("posts", Key = "post:{id}")]
            public partial Task<int> GetAsync(int id);
            private Task<int> GetCoreAsync(int id) => Task.FromResult(id);
            [{{attribute}}]
            public partial Task DeleteAsync(int id);
            private Task DeleteCoreAsync(int id) => Task.CompletedTask;
        }
        """,
        """
        public partial class Service(HybridCache cache)
        {
            [Cached("posts", Key = "post:{id}")]
            public partial Task<int> GetAsync(int id);
            private Task<int> GetCoreAsync(int id) => Task.FromResult(id);
            [InvalidatesCache(Method = nameof(GetAsync))]
            public partial Task DeleteAsync(int id);
            private Task DeleteCoreAsync(int id) => Task.CompletedTask;
        }
        """,
        ["'DeleteAsync'"]);

    // ---- key-template diagnostics on tag templates -----------------------------------------------------------------

    public static TheoryData<string, string, string, string> BadTags() => new()
    {
        // attribute text before the tags, the bad tag, the diagnostic, a word its message must hold
        { "Cached(\"posts\", ", "\"post:{postId}\"", "CG0007", "Tag placeholder '{postId}'" },
        { "InvalidatesCache(", "\"post:{query.Title}\"", "CG0007", "Tag placeholder '{query.Title}'" },
        { "Cached(\"posts\", ", "\"post:{query}\"", "CG0012", "'Query'" },
        { "InvalidatesCache(", "\"post:{query}\"", "CG0012", "'Query'" },
        { "Cached(\"posts\", ", "\"post:{id\"", "CG0016", "not closed" },
        { "InvalidatesCache(", "\"post:{id:D4}\"", "CG0016", "format strings" },
        { "Cached(\"posts\", ", "\"\"", "CG0016", "must not be empty" },
        { "InvalidatesCache(", "\"\"", "CG0016", "must not be empty" },
    };

    [Theory]
    [MemberData(nameof(BadTags))]
    public void Tag_templates_get_the_key_template_diagnostics(string attribute, string tag, string id, string named)
    {
        bool onCached = attribute.StartsWith("Cached", StringComparison.Ordinal);
        string cachedTag = onCached ? $"[|{tag}|]" : "\"post:{id}\"";
        string evictedTag = onCached ? "\"post:{id}\"" : $"[|{tag}|]";
        Check(id,
            $$"""
            public sealed class Query { public int Page { get; init; } }
            public partial class Service(HybridCache cache)
            {
                [Cached("posts", Key = "post:{id}", Tags = [{{cachedTag}}])]
                public partial Task<int> GetAsync(int id, Query query);
                private Task<int> GetCoreAsync(int id, Query query) => Task.FromResult(id);
                [InvalidatesCache(Tags = [{{evictedTag}}])]
                public partial Task SaveAsync(int id, Query query);
                private Task SaveCoreAsync(int id, Query query) => Task.CompletedTask;
            }
            """,
            """
            public sealed class Query { public int Page { get; init; } }
            public partial class Service(HybridCache cache)
            {
                [Cached("posts", Key = "post:{id}", Tags = ["post:{id}"])]
                public partial Task<int> GetAsync(int id, Query query);
                private Task<int> GetCoreAsync(int id, Query query) => Task.FromResult(id);
                [InvalidatesCache(Tags = ["post:{id}"])]
                public partial Task SaveAsync(int id, Query query);
                private Task SaveCoreAsync(int id, Query query) => Task.CompletedTask;
            }
            """,
            [named]);
    }

    // ---- several attributes on one method ---------------------------------------------------------------------------

    [Fact]
    public void CG0015_cached_and_updates_cache_on_one_method() => Check("CG0015",
        """
        public partial class Service(HybridCache cache)
        {
            [Cached("posts", Key = "post:{id}")]
            [UpdatesCache(nameof(GetAsync))]
            public partial Task<int> [|GetAsync|](int id);
            private Task<int> GetCoreAsync(int id) => Task.FromResult(id);
        }
        """,
        """
        public partial class Service(HybridCache cache)
        {
            [Cached("posts", Key = "post:{id}")]
            public partial Task<int> GetAsync(int id);
            private Task<int> GetCoreAsync(int id) => Task.FromResult(id);
        }
        """,
        ["'GetAsync'", "[UpdatesCache]"]);

    [Fact]
    public void Several_InvalidatesCache_on_one_method_compile_and_each_is_applied()
    {
        GeneratorRun run = GeneratorHarness.Run(Prelude + """
            public partial class Service(HybridCache cache)
            {
                [Cached("posts", Key = "post:{id}")]
                public partial Task<int> GetAsync(int id);
                private Task<int> GetCoreAsync(int id) => Task.FromResult(id);
                [Cached("lists")]
                public partial Task<int> CountAsync();
                private Task<int> CountCoreAsync() => Task.FromResult(0);
                [InvalidatesCache("posts", Key = "post:{id}")]
                [InvalidatesCache("lists")]
                public partial Task SaveAsync(int id);
                private Task SaveCoreAsync(int id) => Task.CompletedTask;
            }
            """);
        Assert.Empty(run.CacheGenDiagnostics);
        Assert.Empty(run.CompilationDiagnostics); // no CS0579 "duplicate attribute"
        string save = run.Source("App.Service.SaveAsync");
        Assert.Contains("\"{posts}:post:\"", save);
        Assert.Contains("\"lists\"", save);
    }

    [Fact]
    public void UpdatesCache_and_InvalidatesCache_on_one_method_get_one_implementation()
    {
        GeneratorRun run = GeneratorHarness.Run(Prelude + """
            public partial class Service(HybridCache cache)
            {
                [Cached("posts", Key = "post:{id}")]
                public partial Task<int> GetAsync(int id);
                private Task<int> GetCoreAsync(int id) => Task.FromResult(id);
                [Cached("lists")]
                public partial Task<int> CountAsync();
                private Task<int> CountCoreAsync() => Task.FromResult(0);
                [InvalidatesCache("lists")]
                [UpdatesCache(nameof(GetAsync))]
                [InvalidatesCache("posts", Key = "post:{id}")]
                public partial Task<int> SetAsync(int id);
                private Task<int> SetCoreAsync(int id) => Task.FromResult(id);
            }
            """);
        Assert.Empty(run.CacheGenDiagnostics);
        Assert.Empty(run.CompilationDiagnostics); // a second implementation would be CS0756
        string set = Assert.Single(run.Sources, s => s.HintName.StartsWith("App.Service.SetAsync", StringComparison.Ordinal)).SourceText.ToString();
        Assert.Contains("CompleteUpdateAsync", set);
        Assert.Contains("\"lists\"", set);
    }

    private static void Check(string id, string misuse, string corrected, string[] named, DiagnosticSeverity severity = DiagnosticSeverity.Error) =>
        DiagnosticCheck.Check(Prelude, id, misuse, corrected, named, severity);
}
