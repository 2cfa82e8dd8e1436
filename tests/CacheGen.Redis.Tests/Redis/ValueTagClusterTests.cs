using CacheGen.Infrastructure;
using CacheGen.Redis.Tests.Infrastructure;

namespace CacheGen.Redis.Tests;

/// <summary>
/// Tags from the result on a real three-master Redis Cluster: a value's tags, its method's fence and its entry share
/// the entry's hash slot (the region's hash tag), so the second read and the guarded write run on one node, in each of
/// three regions on three masters.
/// </summary>
public sealed class ValueTagClusterTests(RedisClusterFixture redis) : IClassFixture<RedisClusterFixture>
{
    /// <summary>With redis-cli's slot allocation these three hash to the first, second and third master.</summary>
    private static readonly string[] Regions = ["authors", "posts", "users"];

    private static CachedMethod MethodOf(string region) => new($"Shop.{region}.GetAsync", region, null) { ValueTagFences = [Fence(region)] };

    private static string Fence(string region) => $"{{{region}}}:#value-tag:group:~int~";

    private static string Group(string region, string group) => $"{{{region}}}:group:{group}";

    // A value is "id|group".
    private static ResultRules<string> RulesOf(string region) =>
        region switch
        {
            "authors" => new(null, null, static v => [Group("authors", v.Split('|')[1])]),
            "posts" => new(null, null, static v => [Group("posts", v.Split('|')[1])]),
            _ => new(null, null, static v => [Group("users", v.Split('|')[1])]),
        };

    private static ValueTask<string> Read(CacheInstance instance, string region, string key, Func<string> source) =>
        ((IMethodCache)instance.Cache).GetOrCreateAsync(MethodOf(region), key, (Source: source, Region: region), static (s, _) => new ValueTask<string>(s.Source()),
            static s => [s.Region], RulesOf(region), default);

    [Fact]
    public async Task A_values_tags_evict_across_three_masters_and_an_eviction_during_the_data_call_wins()
    {
        await using CacheInstance a = CacheInstance.Create(redis.Configuration);
        await using CacheInstance b = CacheInstance.Create(redis.Configuration);
        Dictionary<string, string> keys = Regions.ToDictionary(r => r, r => Entry.UniqueKey(r));
        string group = Random.Shared.Next().ToString();
        foreach ((string region, string key) in keys)
            await Read(a, region, key, () => $"{key}|{group}");
        await a.SettledAsync();
        Assert.Equal(3, keys.Values.Select(k => redis.Cluster.MasterOf(Entry.RedisKey(k))).Distinct().Count());
        foreach ((string region, string key) in keys)
            Assert.Equal($"{key}|{group}", await Read(b, region, key, () => "a miss"));

        // One region's group is evicted: that region's entry goes, the others stay.
        await a.Cache.RemoveByTagAsync([Group("posts", group), Fence("posts")]);
        await using CacheInstance c = CacheInstance.Create(redis.Configuration);
        Assert.Equal("refilled|" + group, await Read(c, "posts", keys["posts"], () => "refilled|" + group));
        Assert.Equal($"{keys["users"]}|{group}", await Read(c, "users", keys["users"], () => "a miss"));
        Assert.Equal($"{keys["authors"]}|{group}", await Read(c, "authors", keys["authors"], () => "a miss"));

        // A fill whose value carries a tag evicted while it runs is not stored, on the cluster too.
        string late = Entry.UniqueKey("users");
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        ValueTask<string> fill = ((IMethodCache)a.Cache).GetOrCreateAsync(MethodOf("users"), late, late, async (k, _) =>
        {
            started.SetResult();
            await release.Task;
            return $"{k}|{group}";
        }, static _ => ["users"], RulesOf("users"), default);
        await started.Task;
        await b.Cache.RemoveByTagAsync([Group("users", group), Fence("users")]);
        release.SetResult();
        await fill;
        await a.SettledAsync();
        await using CacheInstance d = CacheInstance.Create(redis.Configuration);
        Assert.Equal("new|" + group, await Read(d, "users", late, () => "new|" + group));
    }
}
