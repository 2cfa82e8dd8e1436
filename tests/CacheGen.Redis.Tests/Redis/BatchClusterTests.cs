using CacheGen.Redis.Tests.Infrastructure;

namespace CacheGen.Redis.Tests;

/// <summary>
/// A batch on a real three-master Redis Cluster, through the hand-written extension: keys without a hash tag spread
/// over many slots (and every master), and each slot is read with its own MGET.
/// </summary>
public sealed class BatchClusterTests(RedisClusterFixture redis) : IClassFixture<RedisClusterFixture>
{
    [Fact]
    public async Task A_batch_over_keys_on_every_master_is_read_back_by_another_instance_without_the_data_call()
    {
        await using var a = CacheInstance.Create(redis.Configuration);
        await using var b = CacheInstance.Create(redis.Configuration);
        string prefix = "post:" + Guid.NewGuid().ToString("N") + ":";
        int[] ids = [.. Enumerable.Range(1, 30)];
        var calls = new List<int[]>();
        ValueTask<Dictionary<int, string>> Many(CacheInstance instance) => instance.Cache.GetOrCreateManyAsync(ids, id => prefix + id,
            (missed, _) =>
            {
                lock (calls)
                    calls.Add([.. missed]);
                return ValueTask.FromResult<IReadOnlyDictionary<int, string>>(missed.ToDictionary(id => id, id => "post " + id));
            });

        Dictionary<int, string> first = await Many(a);
        await a.SettledAsync();
        Dictionary<int, string> second = await Many(b);

        Assert.Equal(30, first.Count);
        Assert.Equal(first, second);
        Assert.Equal([ids], calls);
        Assert.Equal(3, ids.Select(id => redis.Cluster.MasterOf(Entry.RedisKey(prefix + id))).Distinct().Count());
        Assert.All(ids, id => Assert.True(redis.Database.KeyExists(Entry.RedisKey(prefix + id)), $"entry {id} is not in Redis"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Evicting_many_names_spread_over_every_master_reaches_each_of_them(bool byTag)
    {
        await using var a = CacheInstance.Create(redis.Configuration);
        string prefix = Guid.NewGuid().ToString("N") + ":";
        int[] ids = [.. Enumerable.Range(1, 30)];
        // Each id its own hash tag: an entry and its tag share a slot, and the ids spread over slots and masters.
        string Key(int id) => "{" + prefix + id + "}:post";
        string Tag(int id) => "{" + prefix + id + "}:tag";
        int calls = 0;
        ValueTask<Dictionary<int, string>> Many(CacheInstance instance) => instance.Cache.GetOrCreateManyAsync(ids, Key,
            (missed, _) =>
            {
                Interlocked.Add(ref calls, missed.Count);
                return ValueTask.FromResult<IReadOnlyDictionary<int, string>>(missed.ToDictionary(id => id, id => "post " + id));
            }, tags: id => [Tag(id)]);
        await Many(a);
        await a.SettledAsync();
        Assert.Equal(3, ids.Select(id => redis.Cluster.MasterOf(Entry.RedisKey(Key(id)))).Distinct().Count());

        await (byTag ? a.Cache.RemoveByTagAsync(ids.Select(Tag)) : a.Cache.RemoveAsync(ids.Select(Key)));

        Assert.Equal(0, a.Hooks.PendingEvictionCount);
        // An instance that never held them reads Redis: every entry is gone there, on every master.
        await using var b = CacheInstance.Create(redis.Configuration);
        await Many(b);
        Assert.Equal(60, calls);
    }
}
