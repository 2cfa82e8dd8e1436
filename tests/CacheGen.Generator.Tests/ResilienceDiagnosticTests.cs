using CacheGen.Generator.Diagnostics;
using CacheGen.Generator.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace CacheGen.Generator.Tests;

/// <summary>
/// Fail-safe, soft timeout and conditions: CG0031-CG0033 fire at the named argument with a message saying what to
/// change, and the corrected code is silent and compiles cleanly, predicates of every accessibility and generic types
/// included.
/// </summary>
public sealed class ResilienceDiagnosticTests
{
    private const string Prelude = """
        using System;
        using System.Threading;
        using System.Threading.Tasks;
        using CacheGen;
        using Microsoft.Extensions.Caching.Hybrid;
        namespace App;

        [System.ComponentModel.ImmutableObject(true)]
        public sealed record Post(int Id, bool Draft);

        """;

    // A stand-in for EF Core's DbContext, in a file of its own: CG0033 matches it by name and namespace, so no EF Core
    // reference is needed. Every test compiles it; only a constructor that takes it matters.
    private const string EfCore = """
        namespace Microsoft.EntityFrameworkCore
        {
            public class DbContext { }
        }
        namespace App
        {
            public sealed class BlogContext : Microsoft.EntityFrameworkCore.DbContext { }
        }
        """;

    // ---- CG0031: Unless names no usable predicate -------------------------------------------------------------------

    [Theory]
    [InlineData("private static bool IsDraft(Post? post) => false;", "names no method of the type")]
    [InlineData("private bool IsDraftPost(Post? post) => false;", "'IsDraftPost' is not static")]
    [InlineData("private static int IsDraftPost(Post? post) => 0;", "'IsDraftPost' returns 'int'")]
    [InlineData("private static bool IsDraftPost(Task<Post?> post) => false;", "'IsDraftPost' takes (Task<Post?>)")]
    [InlineData("private static bool IsDraftPost(Post? post, int id) => false;", "'IsDraftPost' takes (Post?, int)")]
    [InlineData("private static bool IsDraftPost() => false;", "'IsDraftPost' takes ()")]
    public void CG0031_Unless_must_name_a_static_bool_method_taking_the_cached_value(string predicate, string why) => Check("CG0031",
        $$"""
        public partial class Service(HybridCache cache)
        {
            [Cached("posts", Key = "post:{id}", [|Unless = "IsDraftPost"|])]
            public partial Task<Post?> GetAsync(int id);
            private Task<Post?> GetCoreAsync(int id) => Task.FromResult<Post?>(null);
            {{predicate}}
        }
        """,
        """
        public partial class Service(HybridCache cache)
        {
            [Cached("posts", Key = "post:{id}", Unless = "IsDraftPost")]
            public partial Task<Post?> GetAsync(int id);
            private Task<Post?> GetCoreAsync(int id) => Task.FromResult<Post?>(null);
            private static bool IsDraftPost(Post? post) => post is { Draft: true };
        }
        """,
        ["Unless = \"IsDraftPost\"", "'GetAsync'", "'Service'", "'Post?'", why]);

    [Theory]
    [InlineData("ValueTask<int>", "new(id)")]
    [InlineData("int", "id")]
    public void CG0031_the_cached_value_of_a_value_task_or_sync_method_is_its_result(string returnType, string body) => Check("CG0031",
        $$"""
        public partial class Service(HybridCache cache)
        {
            [Cached("counts", [|Unless = nameof(IsZero)|])]
            public partial {{returnType}} Count(int id);
            private {{returnType}} CountCore(int id) => {{body}};
            private static bool IsZero(long count) => count == 0;
        }
        """,
        $$"""
        public partial class Service(HybridCache cache)
        {
            [Cached("counts", Unless = nameof(IsZero))]
            public partial {{returnType}} Count(int id);
            private {{returnType}} CountCore(int id) => {{body}};
            private static bool IsZero(int count) => count == 0;
        }
        """,
        ["Unless = \"IsZero\"", "'Count'", "'int'", "'IsZero' takes (long)"]);

    [Fact]
    public void CG0031_a_predicate_of_another_type_is_not_found() => Check("CG0031",
        """
        public static class Rules
        {
            public static bool IsDraft(Post? post) => post is { Draft: true };
        }
        public partial class Service(HybridCache cache)
        {
            [Cached("posts", [|Unless = nameof(Rules.IsDraft)|])]
            public partial Task<Post?> GetAsync(int id);
            private Task<Post?> GetCoreAsync(int id) => Task.FromResult<Post?>(null);
        }
        """,
        """
        public static class Rules
        {
            public static bool IsDraft(Post? post) => post is { Draft: true };
        }
        public partial class Service(HybridCache cache)
        {
            [Cached("posts", Unless = nameof(IsDraft))]
            public partial Task<Post?> GetAsync(int id);
            private Task<Post?> GetCoreAsync(int id) => Task.FromResult<Post?>(null);
            private static bool IsDraft(Post? post) => Rules.IsDraft(post);
        }
        """,
        ["Unless = \"IsDraft\"", "'GetAsync'", "names no method of the type"]);

    [Fact]
    public void A_bad_Unless_or_StaleSeconds_is_reported_once_also_when_a_write_through_or_eviction_targets_the_method()
    {
        GeneratorRun run = GeneratorHarness.Run(Prelude + """
            public partial class Service(HybridCache cache)
            {
                [Cached("posts", Key = "post:{id}", Unless = nameof(IsDraft))]
                public partial Task<Post?> GetAsync(int id);
                private Task<Post?> GetCoreAsync(int id) => Task.FromResult<Post?>(null);
                private bool IsDraft(Post? post) => post is { Draft: true };

                [Cached("posts", Key = "count:{id}", StaleSeconds = -1)]
                public partial Task<int> CountAsync(int id);
                private Task<int> CountCoreAsync(int id) => Task.FromResult(id);

                [UpdatesCache(nameof(GetAsync))]
                public partial Task<Post?> SaveAsync(int id);
                private Task<Post?> SaveCoreAsync(int id) => Task.FromResult<Post?>(null);

                [InvalidatesCache(Method = nameof(CountAsync))]
                public partial Task RecountAsync(int id);
                private Task RecountCoreAsync(int id) => Task.CompletedTask;
            }
            """);
        // The writing methods name the cached methods correctly: the error is the cached methods' own, said where they are.
        Assert.Equal(["CG0031", "CG0032"], run.CacheGenDiagnostics.Select(d => d.Id).Order());
    }

    [Fact]
    public void Unless_finds_the_fitting_overload_and_predicates_of_any_accessibility()
    {
        GeneratorRun run = GeneratorHarness.Run(Prelude + """
            public partial class Service(HybridCache cache)
            {
                [Cached("posts", Unless = nameof(IsDraft))]
                public partial Task<Post?> GetAsync(int id);
                private Task<Post?> GetCoreAsync(int id) => Task.FromResult<Post?>(null);

                [Cached("counts", Unless = nameof(IsDraft))]
                public partial ValueTask<int> CountAsync();
                private ValueTask<int> CountCoreAsync() => new(0);

                private static bool IsDraft(string text) => text.Length == 0;
                private static bool IsDraft(int count) => count == 0;
                protected internal static bool IsDraft(Post? post) => post is { Draft: true };
            }
            """);
        Assert.Empty(run.CacheGenDiagnostics);
        Assert.Empty(run.CompilationDiagnostics);
        Assert.Contains("IsDraft(__result)", run.Source("App.Service.GetAsync"));
    }

    [Fact]
    public void Unless_in_a_generic_type_calls_the_predicate_of_the_same_construction()
    {
        GeneratorRun run = GeneratorHarness.Run(Prelude + """
            public partial class Registry<TKey>(HybridCache cache) where TKey : notnull, ISpanFormattable
            {
                [Cached("registry", Unless = nameof(IsMissing))]
                public partial Task<TKey?> LookupAsync(TKey key);
                private Task<TKey?> LookupCoreAsync(TKey key) => Task.FromResult<TKey?>(key);
                private static bool IsMissing(TKey? key) => key is null;

                public partial class Shelf<TItem>(HybridCache cache) where TItem : class
                {
                    [Cached("shelf", Unless = nameof(IsEmpty), CacheNull = false)]
                    public partial TItem? Take(TKey key);
                    private TItem? TakeCore(TKey key) => null;
                    private static bool IsEmpty(TItem? item) => item is string { Length: 0 };
                }
            }
            """);
        Assert.Empty(run.CacheGenDiagnostics);
        Assert.Empty(run.CompilationDiagnostics);
    }

    [Theory]
    [InlineData("Task<int>", "Task.FromResult(id)")]
    [InlineData("ValueTask<DateTime>", "new(DateTime.UnixEpoch)")]
    [InlineData("int", "id")]
    [InlineData("int?", "null")]
    public void CacheNull_false_compiles_on_every_result_type(string returnType, string body)
    {
        GeneratorRun run = GeneratorHarness.Run(Prelude + $$"""
            public partial class Service(HybridCache cache)
            {
                [Cached("values", CacheNull = false)]
                public partial {{returnType}} Get(int id);
                private {{returnType}} GetCore(int id) => {{body}};
            }
            """);
        Assert.Empty(run.CacheGenDiagnostics);
        Assert.Empty(run.CompilationDiagnostics);
        Assert.Contains("CacheNull = false", run.Source("App.Service.Get"));
    }

    // ---- CG0032: a negative window or timeout, or a timeout without a window ---------------------------------------

    [Fact]
    public void CG0032_StaleSeconds_must_not_be_negative() => Check("CG0032",
        """
        public partial class Service(HybridCache cache)
        {
            [Cached("posts", [|StaleSeconds = -60|])]
            public partial Task<Post?> GetAsync(int id);
            private Task<Post?> GetCoreAsync(int id) => Task.FromResult<Post?>(null);
        }
        """,
        """
        public partial class Service(HybridCache cache)
        {
            [Cached("posts", StaleSeconds = 60)]
            public partial Task<Post?> GetAsync(int id);
            private Task<Post?> GetCoreAsync(int id) => Task.FromResult<Post?>(null);
        }
        """,
        ["'GetAsync'", "StaleSeconds = -60", "negative"]);

    [Fact]
    public void CG0032_TimeoutMilliseconds_must_not_be_negative() => Check("CG0032",
        """
        public partial class Service(HybridCache cache)
        {
            [Cached("posts", StaleSeconds = 60, [|TimeoutMilliseconds = -1|])]
            public partial Task<Post?> GetAsync(int id);
            private Task<Post?> GetCoreAsync(int id) => Task.FromResult<Post?>(null);
        }
        """,
        """
        public partial class Service(HybridCache cache)
        {
            [Cached("posts", StaleSeconds = 60, TimeoutMilliseconds = 100)]
            public partial Task<Post?> GetAsync(int id);
            private Task<Post?> GetCoreAsync(int id) => Task.FromResult<Post?>(null);
        }
        """,
        ["'GetAsync'", "TimeoutMilliseconds = -1", "negative"]);

    [Theory]
    [InlineData("")]
    [InlineData("StaleSeconds = 0, ")]
    public void CG0032_TimeoutMilliseconds_needs_a_stale_window(string stale) => Check("CG0032",
        $$"""
        public partial class Service(HybridCache cache)
        {
            [Cached("posts", {{stale}}[|TimeoutMilliseconds = 200|])]
            public partial int Count(int id);
            private int CountCore(int id) => id;
        }
        """,
        """
        public partial class Service(HybridCache cache)
        {
            [Cached("posts", StaleSeconds = 300, TimeoutMilliseconds = 200)]
            public partial int Count(int id);
            private int CountCore(int id) => id;
        }
        """,
        ["'Count'", "TimeoutMilliseconds = 200 without StaleSeconds", "set StaleSeconds too"]);

    // ---- CG0033: a background fill with the caller's DbContext -----------------------------------------------------

    [Fact]
    public void CG0033_a_timeout_on_a_type_that_takes_a_DbContext_is_a_warning() => Check("CG0033",
        """
        public partial class Service(BlogContext db, HybridCache cache)
        {
            [Cached("posts", StaleSeconds = 300, [|TimeoutMilliseconds = 200|])]
            public partial Task<Post?> GetAsync(int id);
            private Task<Post?> GetCoreAsync(int id) => Task.FromResult<Post?>(db is null ? null : new Post(id, Draft: false));
        }
        """,
        """
        public partial class Service(BlogContext db, HybridCache cache)
        {
            [Cached("posts", StaleSeconds = 300)]
            public partial Task<Post?> GetAsync(int id);
            private Task<Post?> GetCoreAsync(int id) => Task.FromResult<Post?>(db is null ? null : new Post(id, Draft: false));
        }
        """,
        ["'GetAsync'", "'Service'", "'BlogContext'", "IDbContextFactory<BlogContext>"], severity: DiagnosticSeverity.Warning);

    [Fact]
    public void CG0033_refresh_ahead_on_a_type_that_takes_a_DbContext_is_a_warning() => Check("CG0033",
        """
        public partial class Service(BlogContext db, HybridCache cache)
        {
            [Cached("posts", TtlSeconds = 60, [|RefreshAheadPercent = 80|])]
            public partial Task<Post?> GetAsync(int id);
            private Task<Post?> GetCoreAsync(int id) => Task.FromResult<Post?>(db is null ? null : new Post(id, Draft: false));
        }
        """,
        """
        public partial class Service(BlogContext db, HybridCache cache)
        {
            [Cached("posts", TtlSeconds = 60)]
            public partial Task<Post?> GetAsync(int id);
            private Task<Post?> GetCoreAsync(int id) => Task.FromResult<Post?>(db is null ? null : new Post(id, Draft: false));
        }
        """,
        ["RefreshAheadPercent lets 'GetAsync'", "the current value", "'Service'", "'BlogContext'", "IDbContextFactory<BlogContext>"],
        severity: DiagnosticSeverity.Warning);

    [Fact]
    public void CG0033_looks_at_every_constructor_and_the_DbContext_itself()
    {
        GeneratorRun run = GeneratorHarness.Run(Prelude + """
            public partial class Service
            {
                private readonly HybridCache _cache;
                public Service(HybridCache cache) => _cache = cache;
                public Service(HybridCache cache, Microsoft.EntityFrameworkCore.DbContext db) => _cache = cache;

                [Cached("posts", StaleSeconds = 300, TimeoutMilliseconds = 200)]
                public partial Task<Post?> GetAsync(int id);
                private Task<Post?> GetCoreAsync(int id) => Task.FromResult<Post?>(null);
            }
            """, EfCore);
        Diagnostic warning = Assert.Single(run.GeneratorDiagnostics, d => d.Id == "CG0033");
        Assert.Contains("'DbContext'", warning.GetMessage());
    }

    [Fact]
    public void CG0033_is_not_reported_for_a_DbContext_of_another_namespace_or_without_a_timeout()
    {
        GeneratorRun run = GeneratorHarness.Run(Prelude + """
            public class DbContext { }
            public partial class Service(DbContext db, HybridCache cache)
            {
                [Cached("posts", StaleSeconds = 300, TimeoutMilliseconds = 200)]
                public partial Task<Post?> GetAsync(int id);
                private Task<Post?> GetCoreAsync(int id) => Task.FromResult<Post?>(db is null ? null : new Post(0, Draft: false));
            }
            public partial class Store(BlogContext db, HybridCache cache)
            {
                [Cached("posts", StaleSeconds = 300)]
                public partial Task<Post?> GetAsync(int id);
                private Task<Post?> GetCoreAsync(int id) => Task.FromResult<Post?>(db is null ? null : new Post(0, Draft: false));
            }
            """, EfCore);
        Assert.Empty(run.CacheGenDiagnostics);
        Assert.Empty(run.CompilationDiagnostics);
    }

    private static void Check(string id, string misuse, string corrected, string[] named, DiagnosticSeverity severity = DiagnosticSeverity.Error) =>
        DiagnosticCheck.Check(Prelude, id, misuse, corrected, named, severity, EfCore);
}
