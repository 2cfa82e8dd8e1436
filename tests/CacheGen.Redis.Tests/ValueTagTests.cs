using CacheGen.Infrastructure;
using CacheGen.Redis.Tests.Infrastructure;

namespace CacheGen.Redis.Tests;

/// <summary>
/// Tags from the result, as generated code asks for them through IMethodCache, on a real redis-server: an entry carries
/// the tags its value names (a product its category), and evicting one drops exactly the entries whose value carries
/// it, on every instance; a write-through's value brings its own; an eviction while the data call runs wins.
/// </summary>
public sealed class ValueTagTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    // What generated code hands the cache for [Cached("products", Key = "product:{id}", Tags = ["category:{result.CategoryId}"])].
    private const string Fence = "{products}:#value-tag:category:{int}";

    private static readonly CachedMethod Products = new("Shop.ProductService.GetAsync", "products", null) { ValueTagFences = [Fence] };

    // A product is "id|category|price"; null is a product not found.
    private static readonly ResultRules<string?> Rules = new(null, null, static product => product is null ? null : [Category(product.Split('|')[1])]);

    private static string Category(string id) => "{products}:category:" + id;

    private static string Key(int id) => "{products}:product:" + id;

    private static IMethodCache Methods(CacheInstance instance) => (IMethodCache)instance.Cache;

    private static ValueTask<string?> Read(CacheInstance instance, int id, Func<string?> source) =>
        Methods(instance).GetOrCreateAsync(Products, Key(id), (Source: source, Id: id), static (s, _) => new ValueTask<string?>(s.Source()),
            static s => ["products", "{products}:product:" + s.Id], Rules, default);

    /// <summary>What generated code evicts for [InvalidatesCache(Tags = ["category:{categoryId}"])]: the tag, and its template's fence.</summary>
    private static ValueTask EvictCategory(CacheInstance instance, string category) => instance.Cache.RemoveByTagAsync([Category(category), Fence]);

    private static int NextId() => Random.Shared.Next(1_000_000, int.MaxValue);

    [Fact]
    public async Task Evicting_a_tag_from_the_result_drops_exactly_the_entries_whose_value_carries_it_on_every_instance()
    {
        await using CacheInstance a = CacheInstance.Create(redis.Configuration);
        await using CacheInstance b = CacheInstance.Create(redis.Configuration);
        string category = NextId().ToString(), other = NextId().ToString();
        int[] inCategory = [NextId(), NextId()];
        int outside = NextId();
        foreach (int id in inCategory)
            await Read(a, id, () => $"{id}|{category}|10");
        await Read(a, outside, () => $"{outside}|{other}|10");
        await a.SettledAsync();
        // B reads them from Redis (its value's tags read with them): hits, and copies in its L1.
        foreach (int id in inCategory.Append(outside))
            Assert.EndsWith("|10", await Read(b, id, () => throw new InvalidOperationException("a miss")));

        await EvictCategory(a, category);

        foreach (int id in inCategory)
            Assert.Equal($"{id}|{category}|20", await Read(a, id, () => $"{id}|{category}|20"));
        Assert.Equal($"{outside}|{other}|10", await Read(a, outside, () => "a miss"));
        await a.SettledAsync();
        // B's copies go with A's message; B then reads what A stored since.
        await Eventually.Until(async () => await Read(b, inCategory[0], () => "stale") == $"{inCategory[0]}|{category}|20", "B to drop its copy");
        Assert.Equal($"{inCategory[1]}|{category}|20", await Read(b, inCategory[1], () => "stale"));
        Assert.Equal($"{outside}|{other}|10", await Read(b, outside, () => "a miss"));
    }

    [Fact]
    public async Task A_fresh_instance_finds_in_Redis_only_what_no_eviction_of_its_value_tags_reached()
    {
        await using CacheInstance a = CacheInstance.Create(redis.Configuration);
        string category = NextId().ToString();
        int id = NextId();
        await Read(a, id, () => $"{id}|{category}|10");
        await a.SettledAsync();
        await using (CacheInstance b = CacheInstance.Create(redis.Configuration))
            Assert.Equal($"{id}|{category}|10", await Read(b, id, () => "a miss"));

        // Evicted by the tag alone (the fence only stops fills in flight): the entry in Redis is stale for everyone.
        await a.Cache.RemoveByTagAsync(Category(category));
        await using CacheInstance c = CacheInstance.Create(redis.Configuration);
        Assert.Equal($"{id}|{category}|11", await Read(c, id, () => $"{id}|{category}|11"));
    }

    [Fact]
    public async Task After_a_write_through_changed_the_value_its_new_tags_evict_it_and_its_old_ones_do_not()
    {
        await using CacheInstance a = CacheInstance.Create(redis.Configuration);
        await using CacheInstance b = CacheInstance.Create(redis.Configuration);
        string before = NextId().ToString(), after = NextId().ToString();
        int id = NextId();
        await Read(a, id, () => $"{id}|{before}|10");
        await a.SettledAsync();

        // The product moves category: the write-through stores the new value with the new category's tag.
        using (CacheUpdate update = await Methods(a).BeginUpdateAsync(Products, Key(id), ["products", Key(id)]))
            await Methods(a).CompleteUpdateAsync<string?>(update, $"{id}|{after}|10", Rules);
        Assert.Equal($"{id}|{after}|10", await Read(a, id, () => "a miss"));
        Assert.Equal($"{id}|{after}|10", await Read(b, id, () => "a miss"));

        await EvictCategory(b, before);
        Assert.Equal($"{id}|{after}|10", await Read(a, id, () => "a miss"));
        await using (CacheInstance fresh = CacheInstance.Create(redis.Configuration))
            Assert.Equal($"{id}|{after}|10", await Read(fresh, id, () => "a miss"));

        await EvictCategory(b, after);
        await Eventually.Until(async () => await Read(a, id, () => $"{id}|{after}|12") == $"{id}|{after}|12", "A to drop its copy");
        await using (CacheInstance fresh = CacheInstance.Create(redis.Configuration))
            Assert.Equal($"{id}|{after}|12", await Read(fresh, id, () => "a miss"));
    }

    [Fact]
    public async Task A_null_result_carries_no_tag_from_the_result_and_reads_back()
    {
        await using CacheInstance a = CacheInstance.Create(redis.Configuration);
        int id = NextId();
        int calls = 0;
        Assert.Null(await Read(a, id, () => { calls++; return null; }));
        await a.SettledAsync();
        await using CacheInstance b = CacheInstance.Create(redis.Configuration);
        Assert.Null(await Read(b, id, () => { calls++; return "a miss"; }));
        Assert.Equal(1, calls);
    }

    [Fact]
    public async Task An_eviction_of_the_values_tag_while_the_data_call_runs_wins()
    {
        await using CacheInstance a = CacheInstance.Create(redis.Configuration);
        await using CacheInstance b = CacheInstance.Create(redis.Configuration);
        string category = NextId().ToString();
        int id = NextId();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        ValueTask<string?> fill = Methods(a).GetOrCreateAsync(Products, Key(id), id, async (i, _) =>
        {
            started.SetResult();
            await release.Task;
            return $"{i}|{category}|old";   // read before the write below committed
        }, static i => ["products", "{products}:product:" + i], Rules, default);
        await started.Task;

        // Another instance writes the category (reprices it) and evicts its tag: the value being computed carries it.
        await EvictCategory(b, category);
        release.SetResult();
        Assert.Equal($"{id}|{category}|old", await fill);
        await a.SettledAsync();

        Assert.Equal($"{id}|{category}|new", await Read(a, id, () => $"{id}|{category}|new"));
        await a.SettledAsync();
        await using CacheInstance c = CacheInstance.Create(redis.Configuration);
        Assert.Equal($"{id}|{category}|new", await Read(c, id, () => "a miss"));
    }

    [Fact]
    public async Task Without_an_eviction_during_the_data_call_the_value_is_stored()
    {
        await using CacheInstance a = CacheInstance.Create(redis.Configuration);
        string category = NextId().ToString();
        int id = NextId();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        ValueTask<string?> fill = Methods(a).GetOrCreateAsync(Products, Key(id), id, async (i, _) =>
        {
            await release.Task;
            return $"{i}|{category}|v1";
        }, static i => ["products", "{products}:product:" + i], Rules, default);
        // An eviction of another category's tag and no fence: not this value's.
        await a.Cache.RemoveByTagAsync(Category(NextId().ToString()));
        release.SetResult();
        await fill;
        await a.SettledAsync();
        await using CacheInstance c = CacheInstance.Create(redis.Configuration);
        Assert.Equal($"{id}|{category}|v1", await Read(c, id, () => "a miss"));
    }

    [Fact]
    public async Task The_values_tags_come_before_the_clear_epoch_which_stays_last_and_clears_it()
    {
        await using CacheInstance a = CacheInstance.Create(redis.Configuration);
        string category = NextId().ToString();
        int id = NextId();
        await Read(a, id, () => $"{id}|{category}|10");
        await a.SettledAsync();

        byte[] envelope = (byte[])(await redis.Database.StringGetAsync(Entry.RedisKey(Key(id))))!;
        Assert.Equal(EnvelopeKind.Value, Envelope.Parse(envelope, out int tagCount, out _, out _));
        // products, product:id, category:c, then the clear epoch; no fence.
        Assert.Equal(4, tagCount);
        Assert.Equal((long)await redis.Database.StringGetAsync("example:1:#tag:" + Category(category)), Envelope.GetGeneration(envelope, 2));
        Assert.Equal((long)await redis.Database.StringGetAsync("example:1:#clear"), Envelope.GetGeneration(envelope, 3));

        await a.Cache.RemoveByTagAsync("*");
        await using CacheInstance b = CacheInstance.Create(redis.Configuration);
        Assert.Equal($"{id}|{category}|11", await Read(b, id, () => $"{id}|{category}|11"));
    }
}
