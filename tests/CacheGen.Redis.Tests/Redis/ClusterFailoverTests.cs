using System.Collections.Concurrent;
using System.Diagnostics;
using CacheGen.Redis.Tests.Infrastructure;
using CacheGen.Testing;
using Xunit.Abstractions;

namespace CacheGen.Redis.Tests;

/// <summary>
/// A master of a three-master cluster with replicas is killed (SIGKILL) while two instances keep reading; its replica
/// takes over (cluster-node-timeout is 1 s, so in a few seconds). Nothing throws to a caller, no evicted value comes
/// back, and caching (Redis hits and the backplane) resumes by itself.
/// </summary>
public sealed class ClusterFailoverTests(RedisClusterWithReplicasFixture redis, ITestOutputHelper output) : IClassFixture<RedisClusterWithReplicasFixture>
{
    private const string Channel = "example:1:cachegen:evict";
    private static readonly string[] Regions = ["authors", "posts", "users"];
    private static readonly TimeSpan FailoverBound = TimeSpan.FromSeconds(30);

    private static string GenerationKey(string region) => $"example:1:#gen:{{{region}}}";

    [Fact]
    public async Task After_a_master_is_killed_its_replica_takes_over_and_caching_resumes_with_no_error_and_no_stale_value()
    {
        int version = 1;
        int databaseCalls = 0;
        Func<CancellationToken, ValueTask<string>> database = _ =>
        {
            Interlocked.Increment(ref databaseCalls);
            return ValueTask.FromResult("v" + Volatile.Read(ref version));
        };
        // A reads through its in-process cache (a minute long, so only the backplane refreshes it); B goes straight to Redis.
        await using var a = CacheInstance.Create(redis.Configuration, o =>
        {
            o.RedisTimeout = TimeSpan.FromSeconds(1);
            o.LocalCacheExpiration = TimeSpan.FromMinutes(1);
        });
        await using var b = CacheInstance.Create(redis.Configuration, o => o.RedisTimeout = TimeSpan.FromSeconds(1));
        await a.Hooks.BackplaneReady.WaitAsync(FailoverBound);
        await b.Hooks.BackplaneReady.WaitAsync(FailoverBound);

        // Kill a master that carries a subscription (the client picks the node), so pub/sub has to move too.
        int Subscribers(RedisServer node) => int.Parse(node.Cli("PUBSUB", "NUMSUB", Channel).Split('\n')[^1]);
        RedisServer victim = Regions.Select(r => redis.Cluster.MasterOf(GenerationKey(r))).OrderByDescending(Subscribers).First();
        output.WriteLine("subscribers per node: " + string.Join(", ", redis.Cluster.LiveNodes.Select(n =>
            n.Port + (n == victim ? " (killed)" : "") + "=" + Subscribers(n))));
        string region = Regions.Single(r => redis.Cluster.MasterOf(GenerationKey(r)) == victim);
        RedisServer replica = Assert.Single(redis.Cluster.ReplicasOf(victim));
        string[] tags = [region];
        string key = Entry.UniqueKey(region);

        // "v1" is cached, then the database moves to "v2" and the region is evicted: "v1" stays in Redis under the old
        // generation. Once the replica has all of it, the master dies.
        Assert.Equal("v1", await a.Cache.GetOrCreateAsync(key, database, tags: tags));
        await a.SettledAsync();
        Volatile.Write(ref version, 2);
        await a.Cache.RemoveByTagAsync(region);
        redis.Cluster.WaitUntilHealthy();
        redis.Cluster.Kill(victim);
        var clock = Stopwatch.StartNew();

        using var metricsB = new MetricsRecorder(b.Hooks.Meter);
        var values = new ConcurrentBag<string>();
        var errors = new ConcurrentBag<Exception>();
        using var stop = new CancellationTokenSource();
        async Task Load(CacheInstance instance, Microsoft.Extensions.Caching.Hybrid.HybridCacheEntryOptions? options)
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    values.Add(await instance.Cache.GetOrCreateAsync(key, database, options, tags));
                }
                catch (Exception e)
                {
                    errors.Add(e);
                }
                await Task.Delay(10);
            }
        }
        Task[] load = [Load(a, null), Load(b, Entry.NoLocal)];

        // Caching has resumed when the cluster is whole again and B's reads are Redis hits once more.
        await Task.Run(() => redis.Cluster.WaitUntilHealthy(FailoverBound));
        TimeSpan promoted = clock.Elapsed;
        while (metricsB.Sum("cachegen.hits", "level=l2") < 5 && clock.Elapsed < FailoverBound)
            await Task.Delay(20);
        TimeSpan resumed = clock.Elapsed;
        stop.Cancel();
        await Task.WhenAll(load);

        output.WriteLine($"killed {victim.Port} (region '{region}'); cluster whole after {promoted.TotalSeconds:F1} s, Redis hits again after " +
            $"{resumed.TotalSeconds:F1} s; {values.Count} reads, {databaseCalls} database calls");
        Assert.Empty(errors);
        Assert.All(values, v => Assert.Equal("v2", v));
        Assert.True(metricsB.Sum("cachegen.hits", "level=l2") >= 5, $"no Redis hits {resumed} after the kill (cluster whole after {promoted})");
        Assert.Same(replica, redis.Cluster.MasterOf(GenerationKey(region)));

        // Evictions and the backplane work on the new master: B evicts, A's minute-long in-process copy goes. First, A's
        // subscription must be back (the client may move it to another node some time after the cluster is whole; a
        // message published before that is lost, which the reliability page bounds by the in-process lifetime): B
        // evicts a tag nothing carries until A has applied one of its messages.
        var subscribed = Stopwatch.StartNew();
        int before = a.Hooks.BackplaneMessagesApplied;
        while (a.Hooks.BackplaneMessagesApplied == before && subscribed.Elapsed < FailoverBound)
        {
            await b.Cache.RemoveByTagAsync("no-entry-carries-this");
            await Task.Delay(100);
        }
        output.WriteLine($"A's subscription carried B's messages again {subscribed.Elapsed.TotalSeconds:F1} s after Redis hits resumed");
        Assert.Equal("v2", await a.Cache.GetOrCreateAsync(key, database, tags: tags));
        int applied = a.Hooks.BackplaneMessagesApplied;
        Volatile.Write(ref version, 3);
        await b.Cache.RemoveByTagAsync(region);
        Assert.Equal("v3", await b.Cache.GetOrCreateAsync(key, database, Entry.NoLocal, tags));
        var deadline = Stopwatch.StartNew();
        string seenByA;
        while ((seenByA = await a.Cache.GetOrCreateAsync(key, database, tags: tags)) != "v3" && deadline.Elapsed < TimeSpan.FromSeconds(10))
            await Task.Delay(50);
        Assert.Equal("v3", seenByA);
        Assert.True(a.Hooks.BackplaneMessagesApplied > applied, "A's copy went without B's message");
    }
}
