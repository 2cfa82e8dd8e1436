using System.Collections.Concurrent;
using System.Globalization;
using CacheGen.Redis.Tests.Infrastructure;
using CacheGen.Testing;
using Microsoft.Extensions.Caching.Hybrid;
using StackExchange.Redis;

namespace CacheGen.Redis.Tests;

/// <summary>
/// Evicting many ids ([InvalidatesCache] over a collection): one script call to Redis and one backplane message for
/// the lot, with the guarantees of a single eviction. Real generated code, real redis-server; Redis's own command
/// statistics count the calls, and a plain subscriber on the channel counts the messages.
/// </summary>
public sealed class EvictManyTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private static readonly int[] Hundred = [.. Enumerable.Range(1, 100)];
    private static readonly TimeSpan Delivery = TimeSpan.FromSeconds(5);

    private static async Task<CacheInstance> Instance(string configuration)
    {
        var instance = CacheInstance.Create(configuration, o => o.LocalCacheExpiration = TimeSpan.FromMinutes(1));
        await instance.Hooks.BackplaneReady.WaitAsync(Delivery);
        return instance;
    }

    /// <summary>Calls per command since the last reset, from <c>INFO commandstats</c> (a script's own commands included).</summary>
    private Dictionary<string, long> CommandCalls()
    {
        var calls = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (string line in redis.Cli("INFO", "commandstats").Split('\n'))
        {
            // cmdstat_evalsha:calls=1,usec=120,...
            string[] parts = line.Trim().Split(':', 2);
            if (parts.Length == 2 && parts[0].StartsWith("cmdstat_", StringComparison.Ordinal))
                calls[parts[0]["cmdstat_".Length..]] = long.Parse(parts[1].Split(',')[0]["calls=".Length..], CultureInfo.InvariantCulture);
        }
        return calls;
    }

    private static long Scripts(Dictionary<string, long> calls) =>
        calls.GetValueOrDefault("eval") + calls.GetValueOrDefault("evalsha") + calls.GetValueOrDefault("eval_ro") + calls.GetValueOrDefault("evalsha_ro");

    /// <summary>Every message on the eviction channel, as a plain client sees it.</summary>
    private async Task<(ConnectionMultiplexer Client, ConcurrentQueue<string> Messages)> Listen()
    {
        ConnectionMultiplexer client = await ConnectionMultiplexer.ConnectAsync(redis.Server.Configuration);
        var messages = new ConcurrentQueue<string>();
        await client.GetSubscriber().SubscribeAsync(RedisChannel.Literal("example:1:cachegen:evict"), (_, m) => messages.Enqueue(m!));
        return (client, messages);
    }

    [Fact]
    public async Task Evicting_a_hundred_ids_by_key_is_one_script_call_and_one_message_that_empties_another_instances_memory()
    {
        await using CacheInstance a = await Instance(redis.Configuration);
        await using CacheInstance b = await Instance(redis.Configuration);
        var writer = new ArticleService(a.Cache);
        var reader = new ArticleService(b.Cache);
        Assert.Equal(100, (await reader.GetManyAsync(Hundred)).Count);
        await b.SettledAsync();
        await writer.ForgetAsync([41, 42]); // a first eviction of many, so the server knows the script and the counts start clean
        await Eventually.Until(() => b.Hooks.BackplaneMessagesApplied == 1, "the warm-up eviction reaching B");
        (ConnectionMultiplexer listener, ConcurrentQueue<string> messages) = await Listen();
        using ConnectionMultiplexer subscribed = listener;
        redis.Cli("CONFIG", "RESETSTAT");

        await writer.ForgetAsync(Hundred);

        Dictionary<string, long> calls = CommandCalls();
        Assert.Equal(1, Scripts(calls));
        Assert.Equal(100, calls.GetValueOrDefault("set")); // the tombstones, inside the one script
        await Eventually.Until(() => b.Hooks.BackplaneMessagesApplied == 2, "the eviction reaching B");
        await Task.Delay(200); // room for a second message, if there were one
        Assert.Single(messages);
        Assert.Equal(1, calls.GetValueOrDefault("publish"));
        // B's copies are gone from its memory (their local lifetime is a minute) and Redis holds tombstones: all 100 load again.
        int loads = reader.Loads;
        Assert.Equal(100, (await reader.GetManyAsync(Hundred)).Count);
        Assert.Equal(loads + 100, reader.Loads);
    }

    [Fact]
    public async Task Evicting_a_hundred_tags_is_one_script_call_and_one_message_that_empties_another_instances_memory()
    {
        await using CacheInstance a = await Instance(redis.Configuration);
        await using CacheInstance b = await Instance(redis.Configuration);
        var writer = new ArticleService(a.Cache);
        var reader = new ArticleService(b.Cache);
        Assert.Equal(100, (await reader.GetManyAsync(Hundred)).Count);
        await b.SettledAsync();
        await writer.RetireAsync([41, 42]);
        await Eventually.Until(() => b.Hooks.BackplaneMessagesApplied == 1, "the warm-up eviction reaching B");
        (ConnectionMultiplexer listener, ConcurrentQueue<string> messages) = await Listen();
        using ConnectionMultiplexer subscribed = listener;
        redis.Cli("CONFIG", "RESETSTAT");

        await writer.RetireAsync(Hundred);

        Dictionary<string, long> calls = CommandCalls();
        Assert.Equal(1, Scripts(calls));
        Assert.Equal(100, calls.GetValueOrDefault("incr")); // each tag's generation moved on, inside the one script
        await Eventually.Until(() => b.Hooks.BackplaneMessagesApplied == 2, "the eviction reaching B");
        await Task.Delay(200);
        Assert.Single(messages);
        int loads = reader.Loads;
        Assert.Equal(100, (await reader.GetManyAsync(Hundred)).Count);
        Assert.Equal(loads + 100, reader.Loads);
    }

    [Fact]
    public async Task A_message_of_many_names_reads_as_evict_everything_in_the_format_an_earlier_build_parses()
    {
        await using CacheInstance a = await Instance(redis.Configuration);
        (ConnectionMultiplexer listener, ConcurrentQueue<string> messages) = await Listen();
        using ConnectionMultiplexer subscribed = listener;

        await new ArticleService(a.Cache).ForgetAsync([1, 2]);

        await Eventually.Until(() => !messages.IsEmpty, "the message");
        // {instance}:{kind}:{name}, kind 'a': what an earlier build acts on as "evict everything", never as less.
        Assert.True(Backplane.TryParse(Assert.Single(messages), out _, out char kind, out string name));
        Assert.Equal('a', kind);
        Assert.True(EvictionBatch.TryRead(name, out char each, out List<string> names));
        Assert.Equal('k', each);
        Assert.Equal(["{articles}:article:1", "{articles}:article:2"], names);
    }

    [Theory]
    [InlineData("k")]
    [InlineData("k3:abc4:d")]
    [InlineData("x1:a")]
    [InlineData("t-1:a")]
    public void A_malformed_batch_is_not_read(string text) => Assert.False(EvictionBatch.TryRead(text, out _, out _));

    [Fact]
    public void Names_holding_the_separators_travel_intact()
    {
        string[] names = ["a:b", "12:x", "", "{posts}:post:7"];
        Assert.True(EvictionBatch.TryRead(EvictionBatch.Write('t', names), out char kind, out List<string> read));
        Assert.Equal('t', kind);
        Assert.Equal(names, read);
    }

    [Fact]
    public async Task Evictions_redis_did_not_confirm_are_pending_and_replayed_into_redis_when_it_is_back()
    {
        using RedisServer server = RedisServer.Start();
        string configuration = server.Configuration + ",defaultDatabase=1";
        await using CacheInstance a = CacheInstance.Create(configuration, o =>
        {
            o.RedisTimeout = TimeSpan.FromSeconds(1);
            o.CircuitBreakerDuration = TimeSpan.FromMilliseconds(500);
        });
        var writer = new ArticleService(a.Cache);
        Assert.Equal(100, (await writer.GetManyAsync(Hundred)).Count);
        await a.SettledAsync();

        server.Kill();
        await writer.ForgetAsync(Hundred).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(100, a.Hooks.PendingEvictionCount);
        // This instance dropped its copies at once and does not read Redis for them meanwhile.
        int loads = writer.Loads;
        Assert.Equal(100, (await writer.GetManyAsync(Hundred)).Count);
        Assert.Equal(loads + 100, writer.Loads);

        server.Restart();
        await Eventually.Until(() => a.Hooks.PendingEvictionCount == 0, "replaying the evictions");
        using ConnectionMultiplexer client = await ConnectionMultiplexer.ConnectAsync(server.Configuration);
        foreach (int id in Hundred)
            Assert.True(await client.GetDatabase(1).KeyExistsAsync(Entry.RedisKey($"{{articles}}:article:{id}")), $"no tombstone for {id}");
    }
}

/// <summary>Articles by id, each tagged with its id; evicted many at a time by key and by tag.</summary>
public sealed partial class ArticleService(HybridCache cache)
{
    private int _loads;

    public int Loads => Volatile.Read(ref _loads);

    [Cached("articles", Key = "article:{id}", Tags = ["article:{id}"])]
    public partial Task<string> GetAsync(int id);
    private Task<string> GetCoreAsync(int id)
    {
        Interlocked.Increment(ref _loads);
        return Task.FromResult("article " + id);
    }

    [CachedBatch(nameof(GetAsync))]
    public partial Task<IReadOnlyDictionary<int, string>> GetManyAsync(IReadOnlyCollection<int> ids);
    private Task<IReadOnlyDictionary<int, string>> GetManyCoreAsync(IReadOnlyCollection<int> ids)
    {
        Interlocked.Add(ref _loads, ids.Count);
        return Task.FromResult<IReadOnlyDictionary<int, string>>(ids.ToDictionary(id => id, id => "article " + id));
    }

    [InvalidatesCache(Method = nameof(GetAsync))]
    public partial Task ForgetAsync(IReadOnlyList<int> ids);
    private Task ForgetCoreAsync(IReadOnlyList<int> ids) => Task.CompletedTask;

    [InvalidatesCache(Tags = ["article:{ids}"])]
    public partial Task RetireAsync(IReadOnlyList<int> ids);
    private Task RetireCoreAsync(IReadOnlyList<int> ids) => Task.CompletedTask;
}
