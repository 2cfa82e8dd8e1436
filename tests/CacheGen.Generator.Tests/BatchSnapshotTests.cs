using CacheGen.Generator.Tests.Infrastructure;

namespace CacheGen.Generator.Tests;

/// <summary>
/// The generated code of [CachedBatch] methods, compared with committed snapshots; the generator is silent and the
/// compilation with the generated code has no errors and no warnings.
/// </summary>
public sealed class BatchSnapshotTests
{
    private const string Usings = """
        using System;
        using System.Collections.Generic;
        using System.Threading;
        using System.Threading.Tasks;
        using CacheGen;
        using Microsoft.Extensions.Caching.Hybrid;

        """;

    [Fact]
    public void Batch_of_a_tagged_fail_safe_method_and_of_a_key_with_a_passed_argument()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            namespace Shop;

            [System.ComponentModel.ImmutableObject(true)]
            public sealed record Post(int Id, string Title);

            public sealed partial class PostService(HybridCache cache)
            {
                [Cached("posts", Key = "post:{id}", Tags = ["post:{id}"], TtlSeconds = 60, StaleSeconds = 600, Unless = nameof(IsDraft))]
                public partial Task<Post?> GetAsync(int id, CancellationToken ct = default);
                private Task<Post?> GetCoreAsync(int id, CancellationToken ct) => Task.FromResult<Post?>(null);

                [CachedBatch(nameof(GetAsync))]
                public partial Task<IReadOnlyDictionary<int, Post>> GetManyAsync(IReadOnlyCollection<int> ids, CancellationToken ct = default);
                private Task<IReadOnlyDictionary<int, Post>> GetManyCoreAsync(IReadOnlyCollection<int> ids, CancellationToken ct) =>
                    Task.FromResult<IReadOnlyDictionary<int, Post>>(new Dictionary<int, Post>());

                [Cached("prices", Key = "{currency}:{sku}")]
                public partial ValueTask<decimal> PriceAsync(string currency, long sku);
                private ValueTask<decimal> PriceCoreAsync(string currency, long sku) => new(1m);

                [CachedBatch(nameof(PriceAsync))]
                public partial ValueTask<Dictionary<long, decimal>> PricesAsync(string currency, List<long> skus);
                private ValueTask<Dictionary<long, decimal>> PricesCoreAsync(string currency, List<long> skus) => new(new Dictionary<long, decimal>());

                private static bool IsDraft(Post? post) => post?.Title == "draft";
            }
            """);
        Assert.Empty(run.CacheGenDiagnostics);
        Assert.Empty(run.CompilationDiagnostics);
        Snapshot.Verify(run);
    }

    [Fact]
    public void Evicting_many_by_method_key_and_tag()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            namespace Shop;

            public sealed partial class PostService(HybridCache cache)
            {
                [Cached("posts", Key = "post:{id}", Tags = ["post:{id}"])]
                public partial Task<string?> GetAsync(int id, CancellationToken ct = default);
                private Task<string?> GetCoreAsync(int id, CancellationToken ct) => Task.FromResult<string?>(null);

                [InvalidatesCache(Method = nameof(GetAsync))]
                [InvalidatesCache(Tags = ["post:{ids}"])]
                public partial Task<int> ArchiveAsync(IReadOnlyList<int> ids, CancellationToken ct = default);
                private Task<int> ArchiveCoreAsync(IReadOnlyList<int> ids, CancellationToken ct) => Task.FromResult(ids.Count);

                [InvalidatesCache("posts", Key = "post:{ids}")]
                public partial void Forget(HashSet<int> ids);
                private void ForgetCore(HashSet<int> ids) { }
            }
            """);
        Assert.Empty(run.CacheGenDiagnostics);
        Assert.Empty(run.CompilationDiagnostics);
        Snapshot.Verify(run);
    }
}
