using System.Diagnostics;
using CacheGen.Redis.Tests.Infrastructure;

namespace CacheGen.Redis.Tests;

/// <summary>
/// Evictions reach other instances' in-process copies through Redis pub/sub. The in-process lifetime here is a
/// minute, so only a message can explain a copy going away within the test.
/// </summary>
public sealed class BackplaneTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private static readonly TimeSpan Delivery = TimeSpan.FromSeconds(5);

    private async Task<CacheInstance> Instance(bool backplane = true)
    {
        var instance = CacheInstance.Create(redis.Configuration, o =>
        {
            o.LocalCacheExpiration = TimeSpan.FromMinutes(1);
            o.Backplane = backplane;
        });
        await instance.Hooks.BackplaneReady.WaitAsync(Delivery);
        return instance;
    }

    /// <summary>Reads through <paramref name="instance"/>'s in-process cache until it stops returning <paramref name="old"/>.</summary>
    private static async Task<string> ReadUntilChanged(CacheInstance instance, string key, string old, string computed)
    {
        var clock = Stopwatch.StartNew();
        string value;
        do
        {
            value = await instance.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult(computed), tags: Entry.Posts);
            if (value != old)
                break;
            await Task.Delay(20);
        }
        while (clock.Elapsed < Delivery);
        return value;
    }

    [Fact]
    public async Task A_region_eviction_drops_the_region_from_other_instances_memory()
    {
        await using var a = await Instance();
        await using var b = await Instance();
        string key = Entry.UniqueKey();
        await b.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult("old"), tags: Entry.Posts);
        await b.SettledAsync();

        await a.Cache.RemoveByTagAsync("posts");

        Assert.Equal("new", await ReadUntilChanged(b, key, "old", "new"));
    }

    [Fact]
    public async Task A_single_entry_eviction_drops_the_entry_from_other_instances_memory()
    {
        await using var a = await Instance();
        await using var b = await Instance();
        string key = Entry.UniqueKey();
        await b.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult("old"), tags: Entry.Posts);
        await b.SettledAsync();

        await a.Cache.RemoveAsync(key);

        Assert.Equal("new", await ReadUntilChanged(b, key, "old", "new"));
    }

    [Fact]
    public async Task A_set_replaces_other_instances_copies()
    {
        await using var a = await Instance();
        await using var b = await Instance();
        string key = Entry.UniqueKey();
        await b.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult("old"), tags: Entry.Posts);
        await b.SettledAsync();

        await a.Cache.SetAsync(key, "set by A", tags: Entry.Posts);

        Assert.Equal("set by A", await ReadUntilChanged(b, key, "old", "computed by B"));
    }

    [Fact]
    public async Task Without_the_backplane_another_instance_keeps_its_copy_for_its_local_lifetime()
    {
        await using var a = await Instance(backplane: false);
        await using var b = await Instance(backplane: false);
        string key = Entry.UniqueKey();
        await b.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult("old"), tags: Entry.Posts);
        await b.SettledAsync();

        await a.Cache.RemoveByTagAsync("posts");
        await Task.Delay(300);

        // This is the bound the backplane shortens: LocalCacheExpiration.
        Assert.Equal("old", await b.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult("new"), tags: Entry.Posts));
        Assert.Equal("new", await b.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult("new"), Entry.NoLocal, Entry.Posts));
    }

    [Fact]
    public async Task An_instance_ignores_its_own_messages()
    {
        await using var a = await Instance();
        await using var b = await Instance();

        await a.Cache.RemoveByTagAsync("posts");
        await a.Cache.RemoveAsync(Entry.UniqueKey());

        // Pub/sub delivers in order on one connection: once B has both messages, A has had its echoes too.
        var clock = Stopwatch.StartNew();
        while (b.Hooks.BackplaneMessagesApplied < 2 && clock.Elapsed < Delivery)
            await Task.Delay(20);
        await Task.Delay(100);
        Assert.Equal(2, b.Hooks.BackplaneMessagesApplied);
        Assert.Equal(0, a.Hooks.BackplaneMessagesApplied);
    }

    [Fact]
    public async Task Garbage_on_the_channel_is_counted_logged_once_and_evicts_nothing()
    {
        await using var a = await Instance();
        await using var b = await Instance();
        using var metrics = new MetricsRecorder(b.Hooks.Meter);
        string key = Entry.UniqueKey();
        await b.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult("kept"), tags: Entry.Posts);
        await b.SettledAsync();
        using var publisher = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(redis.Server.Configuration);
        var channel = StackExchange.Redis.RedisChannel.Literal("example:1:cachegen:evict");
        var garbage = new byte[256];
        Random.Shared.NextBytes(garbage);
        foreach (StackExchange.Redis.RedisValue message in new StackExchange.Redis.RedisValue[] { garbage, "", "no-separators", "x:z:posts", new string('t', 100_000) })
            await publisher.GetSubscriber().PublishAsync(channel, message);

        // A real eviction after the garbage still arrives, so the garbage has been read by then.
        await a.Cache.RemoveAsync(Entry.UniqueKey());
        var clock = Stopwatch.StartNew();
        while (b.Hooks.BackplaneMessagesApplied < 1 && clock.Elapsed < Delivery)
            await Task.Delay(20);

        Assert.Equal(1, b.Hooks.BackplaneMessagesApplied);
        Assert.Equal(5, metrics.Sum("cachegen.backplane.dropped"));
        Assert.Single(b.Logs.WithEventId(CacheGenLogEvents.BackplaneMessageUnreadable));
        Assert.Equal("kept", await b.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult("recomputed"), tags: Entry.Posts));
    }

    [Fact]
    public async Task Messages_go_on_a_channel_named_after_the_key_prefix_and_carry_no_values()
    {
        await using var a = await Instance();
        var messages = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var listener = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(redis.Server.Configuration);
        // Pub/sub ignores the database number: the prefix is what keeps two applications' evictions apart.
        await listener.GetSubscriber().SubscribeAsync(StackExchange.Redis.RedisChannel.Literal("example:1:cachegen:evict"), (_, m) => messages.Enqueue(m!));
        string key = Entry.UniqueKey();

        await a.Cache.SetAsync(key, "a secret value", tags: Entry.Posts);
        await a.Cache.RemoveAsync(key);
        await a.Cache.RemoveByTagAsync("posts");

        var clock = Stopwatch.StartNew();
        while (messages.Count < 3 && clock.Elapsed < Delivery)
            await Task.Delay(20);
        Assert.Equal(3, messages.Count);
        Assert.All(messages, m => Assert.DoesNotContain("secret", m));
        Assert.Equal(2, messages.Count(m => m.EndsWith(":k:" + key, StringComparison.Ordinal)));
        Assert.Single(messages, m => m.EndsWith(":t:posts", StringComparison.Ordinal));
    }
}
