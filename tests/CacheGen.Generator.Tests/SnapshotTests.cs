using CacheGen.Generator.Tests.Infrastructure;

namespace CacheGen.Generator.Tests;

/// <summary>
/// The generated code for every supported shape, compared with committed snapshots. Each test also requires the
/// generator to be silent and the compilation with the generated code to have no errors and no warnings.
/// </summary>
public sealed class SnapshotTests
{
    private const string Usings = """
        using System;
        using System.Collections.Generic;
        using System.Threading;
        using System.Threading.Tasks;
        using CacheGen;
        using Microsoft.Extensions.Caching.Hybrid;

        """;

    private static GeneratorRun RunClean(string source)
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + source);
        Assert.Empty(run.CacheGenDiagnostics);
        Assert.Empty(run.CompilationDiagnostics);
        return run;
    }

    [Fact]
    public void Contract_post_service() => Snapshot.Verify(RunClean("""
        namespace Blog;

        [System.ComponentModel.ImmutableObject(true)]
        public sealed record Post(int Id, string Title, string Content);

        public sealed class PostStore
        {
            public Task<IReadOnlyList<Post>> ListAsync(CancellationToken ct) => Task.FromResult<IReadOnlyList<Post>>([]);
            public Task<Post?> FindAsync(int id, CancellationToken ct) => Task.FromResult<Post?>(null);
            public Task<Post> SaveAsync(Post post, CancellationToken ct) => Task.FromResult(post);
        }

        public sealed partial class PostService(PostStore store, HybridCache cache)
        {
            [Cached("posts")]
            public partial Task<IReadOnlyList<Post>> GetAllAsync(CancellationToken ct = default);
            private Task<IReadOnlyList<Post>> GetAllCoreAsync(CancellationToken ct) => store.ListAsync(ct);

            [Cached("posts", Key = "post:{id}", TtlSeconds = 300)]
            public partial Task<Post?> GetAsync(int id, CancellationToken ct = default);
            private Task<Post?> GetCoreAsync(int id, CancellationToken ct) => store.FindAsync(id, ct);

            [InvalidatesCache("posts")]
            public partial Task<Post> SaveAsync(Post post, CancellationToken ct = default);
            private Task<Post> SaveCoreAsync(Post post, CancellationToken ct) => store.SaveAsync(post, ct);
        }
        """));

    [Fact]
    public void Tags_typed_eviction_and_write_through() => Snapshot.Verify(RunClean("""
        namespace Tagged;

        [System.ComponentModel.ImmutableObject(true)]
        public sealed record Post(int Id, int AuthorId, string Title);

        public sealed partial class PostService(HybridCache cache)
        {
            [Cached("posts", Key = "post:{id}", Tags = ["post:{id}"])]
            public partial Task<Post?> GetAsync(int id, CancellationToken ct = default);
            private Task<Post?> GetCoreAsync(int id, CancellationToken ct) => Task.FromResult<Post?>(null);

            [Cached("posts", Key = "author:{authorId}", Tags = ["author:{authorId}", "featured"])]
            public partial ValueTask<IReadOnlyList<Post>> ByAuthorAsync(int authorId);
            private ValueTask<IReadOnlyList<Post>> ByAuthorCoreAsync(int authorId) => new([]);

            [Cached("feed", Tags = ["author:{author}"])]
            public partial IReadOnlyList<string> Titles(int author);
            private IReadOnlyList<string> TitlesCore(int author) => [];

            // Evicts post 7's tag and the author's, in every region that declares them (the author tag is in two).
            [InvalidatesCache(Tags = ["post:{post.Id}", "author:{post.AuthorId}"])]
            public partial Task<Post> SaveAsync(Post post, CancellationToken ct = default);
            private Task<Post> SaveCoreAsync(Post post, CancellationToken ct) => Task.FromResult(post);

            // Typed eviction and a whole region, by two attributes.
            [InvalidatesCache(Method = nameof(GetAsync))]
            [InvalidatesCache("feed")]
            public partial Task DeleteAsync(int id, CancellationToken ct = default);
            private Task DeleteCoreAsync(int id, CancellationToken ct) => Task.CompletedTask;

            // Write-through, plus the lists that hold the post.
            [UpdatesCache(nameof(GetAsync))]
            [InvalidatesCache(Tags = ["featured"])]
            public partial Task<Post?> RenameAsync(int id, string title, CancellationToken ct = default);
            private Task<Post?> RenameCoreAsync(int id, string title, CancellationToken ct) => Task.FromResult<Post?>(null);

            [UpdatesCache(nameof(Titles))]
            public partial IReadOnlyList<string> Retitle(int author);
            private IReadOnlyList<string> RetitleCore(int author) => [];
        }
        """));

    [Fact]
    public void Return_shapes() => Snapshot.Verify(RunClean("""
        namespace Shapes;

        public partial class Counter
        {
            private readonly HybridCache _cache;
            private int _count;
            public Counter(HybridCache cache) => _cache = cache;

            [Cached("counts")]
            public partial ValueTask<int> PeekAsync(string name);
            private ValueTask<int> PeekCoreAsync(string name) => new(_count);

            [Cached("counts", TtlSeconds = 5)]
            public partial int Count(string name);
            private int CountCore(string name) => _count;

            [InvalidatesCache("counts")]
            public partial void Increment();
            private void IncrementCore() => _count++;

            [InvalidatesCache("counts")]
            public partial int Add(int amount);
            private int AddCore(int amount) => _count += amount;

            [InvalidatesCache("counts")]
            public partial Task ResetAsync(CancellationToken cancellationToken);
            private Task ResetCoreAsync(CancellationToken cancellationToken) { _count = 0; return Task.CompletedTask; }

            [InvalidatesCache("counts")]
            public partial ValueTask ClearAsync();
            private ValueTask ClearCoreAsync() { _count = 0; return default; }

            [InvalidatesCache("counts")]
            public partial ValueTask<int> SetAsync(int value);
            private ValueTask<int> SetCoreAsync(int value) => new(_count = value);
        }
        """));

    [Fact]
    public void Default_key_argument_kinds() => Snapshot.Verify(RunClean("""
        namespace Keys;

        public enum Color { Red, Green }
        public sealed record Filter(string Text, int Page);
        public readonly struct Money : IFormattable
        {
            public decimal Amount { get; init; }
            public string ToString(string? format, IFormatProvider? provider) => Amount.ToString(format, provider);
        }

        public partial class Search(HybridCache cache)
        {
            [Cached("search")]
            public partial Task<string> FindAsync(string? text, int page, long? limit, double score, decimal price, bool exact, bool? flag,
                char separator, Color color, Guid id, DateTime at, DateTimeOffset offset, TimeSpan window, DateOnly day, TimeOnly time,
                Filter filter, Money money, Uri source, CancellationToken ct);
            private Task<string> FindCoreAsync(string? text, int page, long? limit, double score, decimal price, bool exact, bool? flag,
                char separator, Color color, Guid id, DateTime at, DateTimeOffset offset, TimeSpan window, DateOnly day, TimeOnly time,
                Filter filter, Money money, Uri source, CancellationToken ct) => Task.FromResult("");
        }
        """));

    [Fact]
    public void Key_templates_and_keyed_eviction() => Snapshot.Verify(RunClean("""
        namespace Templates;

        public sealed class Author { public string? Name { get; init; } }
        [System.ComponentModel.ImmutableObject(true)]
        public sealed class Post { public int Id { get; init; } public Author? Author { get; init; } }

        public partial class Posts(HybridCache cache)
        {
            [Cached("posts", Key = "post:{id}")]
            public partial Task<Post?> GetAsync(int id);
            private Task<Post?> GetCoreAsync(int id) => Task.FromResult<Post?>(null);

            [Cached("posts", Key = "by-author:{post.Author.Name}:{{literal}}")]
            public partial Task<int> CountByAuthorAsync(Post post);
            private Task<int> CountByAuthorCoreAsync(Post post) => Task.FromResult(0);

            [Cached("posts", Key = "all")]
            public partial Task<int> CountAsync();
            private Task<int> CountCoreAsync() => Task.FromResult(0);

            [InvalidatesCache("posts", Key = "post:{post.Id}")]
            public partial Task<Post> SaveAsync(Post post, CancellationToken ct = default);
            private Task<Post> SaveCoreAsync(Post post, CancellationToken ct) => Task.FromResult(post);

            [InvalidatesCache("posts", Key = "post:{id}")]
            public partial bool Delete(int id);
            private bool DeleteCore(int id) => true;

            [InvalidatesCache("posts", Key = "all")]
            public partial void Recount();
            private void RecountCore() { }

            [InvalidatesCache("posts", "authors")]
            public partial Task RenameAuthorAsync(string name);
            private Task RenameAuthorCoreAsync(string name) => Task.CompletedTask;

            [Cached("authors")]
            public partial string Describe(string name);
            private string DescribeCore(string name) => name;
        }
        """));

    [Fact]
    public void Generic_nested_and_static_types() => Snapshot.Verify(RunClean("""
        namespace Nested;

        public static partial class Registry<TKey> where TKey : notnull, ISpanFormattable
        {
            public static HybridCache Cache { get; set; } = null!;

            [Cached("registry")]
            public static partial Task<string?> LookupAsync(TKey key);
            private static Task<string?> LookupCoreAsync(TKey key) => Task.FromResult<string?>(key.ToString());

            public partial class Shelf<TItem> where TItem : class
            {
                [Cached("registry")]
                public static partial ValueTask<TItem?> TakeAsync<TFilter>(TKey key, TFilter filter, CancellationToken ct)
                    where TFilter : struct, IFormattable;
                private static ValueTask<TItem?> TakeCoreAsync<TFilter>(TKey key, TFilter filter, CancellationToken ct)
                    where TFilter : struct, IFormattable => default;

                [InvalidatesCache("registry")]
                public static partial void Forget(TKey key);
                private static void ForgetCore(TKey key) { }
            }
        }

        public partial record struct Point(int X, int Y, HybridCache Cache)
        {
            [Cached("points")]
            public readonly partial int Distance(int toX);
            private readonly int DistanceCore(int toX) => Math.Abs(X - toX);
        }
        """));

    [Fact]
    public void Overloads_and_global_namespace() => Snapshot.Verify(RunClean("""
        public partial class Lookup
        {
            protected HybridCache Cache { get; }
            public Lookup(HybridCache cache) => Cache = cache;

            [Cached("lookup")]
            public partial string Find(int id);
            private string FindCore(int id) => id.ToString();

            [Cached("lookup")]
            public partial string Find(string name);
            private string FindCore(string name) => name;

            [Cached("lookup")]
            internal partial string Find(int id, string? name);
            private string FindCore(int id, string? name) => name ?? "";
        }
        """));

    [Fact]
    public void Resilience_and_conditions() => Snapshot.Verify(RunClean("""
        namespace Resilient;

        [System.ComponentModel.ImmutableObject(true)]
        public sealed record Post(int Id, bool Draft);

        public sealed partial class PostService(HybridCache cache)
        {
            // Fail-safe for an hour after expiry, and an expired value after 200 ms when the store is slow.
            [Cached("posts", Key = "post:{id}", TtlSeconds = 60, StaleSeconds = 3600, TimeoutMilliseconds = 200, CacheNull = false)]
            public partial Task<Post?> GetAsync(int id, CancellationToken ct = default);
            private Task<Post?> GetCoreAsync(int id, CancellationToken ct) => Task.FromResult<Post?>(null);

            [Cached("posts", Tags = ["author:{authorId}"], Unless = nameof(IsDraft))]
            public partial ValueTask<Post> LatestAsync(int authorId);
            private ValueTask<Post> LatestCoreAsync(int authorId) => new(new Post(authorId, Draft: true));

            [Cached("counts", StaleSeconds = 600, Unless = nameof(IsEmpty))]
            public partial int Count(string region);
            private int CountCore(string region) => region.Length;

            // A write-through stores the entry as GetAsync does: for its lifetime, then its stale window.
            [UpdatesCache(nameof(GetAsync))]
            public partial Task<Post?> SaveAsync(int id, CancellationToken ct = default);
            private Task<Post?> SaveCoreAsync(int id, CancellationToken ct) => Task.FromResult<Post?>(new Post(id, Draft: false));

            private static bool IsDraft(Post post) => post.Draft;
            private static bool IsEmpty(int count) => count == 0;
        }
        """));
}
