using CacheGen.Redis.Tests.Infrastructure;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace CacheGen.Redis.Tests;

/// <summary>Redis = null: the in-process cache alone.</summary>
public sealed class InProcessTests
{
    private static Func<CancellationToken, ValueTask<string>> Returns(string value, Action? called = null) => _ =>
    {
        called?.Invoke();
        return ValueTask.FromResult(value);
    };

    [Fact]
    public async Task It_says_it_runs_in_process_only()
    {
        await using var instance = CacheInstance.Create(redis: null);

        LogLine line = Assert.Single(instance.Logs.WithEventId(CacheGenLogEvents.InProcessOnly));
        Assert.Equal(LogLevel.Information, line.Level);
        Assert.Equal("CacheGen is running on the in-process cache only (no Redis configured)", line.Message);
    }

    [Fact]
    public async Task Miss_then_hit()
    {
        await using var instance = CacheInstance.Create(redis: null);
        var factory = new CountingFactory<string>(n => "v" + n);

        await instance.Cache.GetOrCreateAsync("{posts}:1", (Func<CancellationToken, ValueTask<string>>)factory, tags: Entry.Posts);
        string second = await instance.Cache.GetOrCreateAsync("{posts}:1", (Func<CancellationToken, ValueTask<string>>)factory, tags: Entry.Posts);

        Assert.Equal("v1", second);
        Assert.Equal(1, factory.Calls);
    }

    [Fact]
    public async Task Region_and_single_entry_eviction()
    {
        await using var instance = CacheInstance.Create(redis: null);
        await instance.Cache.GetOrCreateAsync("{posts}:1", Returns("post 1"), tags: Entry.Posts);
        await instance.Cache.GetOrCreateAsync("{posts}:2", Returns("post 2"), tags: Entry.Posts);
        await instance.Cache.GetOrCreateAsync("{users}:1", Returns("user 1"), tags: Entry.Users);

        await instance.Cache.RemoveByTagAsync("posts");
        Assert.Equal("new 1", await instance.Cache.GetOrCreateAsync("{posts}:1", Returns("new 1"), tags: Entry.Posts));
        Assert.Equal("new 2", await instance.Cache.GetOrCreateAsync("{posts}:2", Returns("new 2"), tags: Entry.Posts));
        Assert.Equal("user 1", await instance.Cache.GetOrCreateAsync("{users}:1", Returns("recomputed"), tags: Entry.Users));

        await instance.Cache.RemoveAsync("{posts}:1");
        Assert.Equal("newer 1", await instance.Cache.GetOrCreateAsync("{posts}:1", Returns("newer 1"), tags: Entry.Posts));
        Assert.Equal("new 2", await instance.Cache.GetOrCreateAsync("{posts}:2", Returns("recomputed"), tags: Entry.Posts));
    }

    [Fact]
    public async Task Remove_by_the_wildcard_tag_clears_everything()
    {
        await using var instance = CacheInstance.Create(redis: null);
        await instance.Cache.GetOrCreateAsync("{posts}:1", Returns("old"), tags: Entry.Posts);
        await instance.Cache.GetOrCreateAsync("untagged", Returns("old"));

        await instance.Cache.RemoveByTagAsync("*");

        Assert.Equal("new", await instance.Cache.GetOrCreateAsync("{posts}:1", Returns("new"), tags: Entry.Posts));
        Assert.Equal("new", await instance.Cache.GetOrCreateAsync("untagged", Returns("new")));
    }

    [Fact]
    public async Task Entries_live_for_their_expiration_on_the_injected_clock()
    {
        var time = new FakeTimeProvider();
        await using var instance = CacheInstance.Create(redis: null, time: time);
        var tenSeconds = new HybridCacheEntryOptions { Expiration = TimeSpan.FromSeconds(10) };
        var factory = new CountingFactory<string>(n => "v" + n);

        await instance.Cache.GetOrCreateAsync("{posts}:1", (Func<CancellationToken, ValueTask<string>>)factory, tenSeconds, Entry.Posts);
        time.Advance(TimeSpan.FromSeconds(9));
        Assert.Equal("v1", await instance.Cache.GetOrCreateAsync("{posts}:1", (Func<CancellationToken, ValueTask<string>>)factory, tenSeconds, Entry.Posts));
        time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal("v2", await instance.Cache.GetOrCreateAsync("{posts}:1", (Func<CancellationToken, ValueTask<string>>)factory, tenSeconds, Entry.Posts));
    }

    [Fact]
    public async Task The_default_expiration_applies_without_redis_too()
    {
        var time = new FakeTimeProvider();
        await using var instance = CacheInstance.Create(redis: null, o => o.DefaultExpiration = TimeSpan.FromSeconds(30), time);
        var factory = new CountingFactory<string>(n => "v" + n);

        await instance.Cache.GetOrCreateAsync("k", (Func<CancellationToken, ValueTask<string>>)factory);
        time.Advance(TimeSpan.FromSeconds(29));
        await instance.Cache.GetOrCreateAsync("k", (Func<CancellationToken, ValueTask<string>>)factory);
        Assert.Equal(1, factory.Calls);
        time.Advance(TimeSpan.FromSeconds(2));
        await instance.Cache.GetOrCreateAsync("k", (Func<CancellationToken, ValueTask<string>>)factory);
        Assert.Equal(2, factory.Calls);
    }

    [Fact]
    public async Task Mutable_values_are_copied_and_immutable_ones_shared()
    {
        await using var instance = CacheInstance.Create(redis: null);
        MutablePost created = await instance.Cache.GetOrCreateAsync("mutable", _ => ValueTask.FromResult(new MutablePost { Id = 1, Title = "original" }));
        created.Title = "changed by the first caller after the fact";
        MutablePost first = await instance.Cache.GetOrCreateAsync("mutable", _ => ValueTask.FromResult(new MutablePost()));
        first.Title = "changed";
        MutablePost second = await instance.Cache.GetOrCreateAsync("mutable", _ => ValueTask.FromResult(new MutablePost()));

        Assert.NotSame(first, second);
        Assert.Equal("original", second.Title);

        ImmutablePost shared = await instance.Cache.GetOrCreateAsync("immutable", _ => ValueTask.FromResult(new ImmutablePost(1, "t")));
        Assert.Same(shared, await instance.Cache.GetOrCreateAsync("immutable", _ => ValueTask.FromResult(new ImmutablePost(2, "x"))));
    }

    [Fact]
    public async Task Read_only_lists_of_immutable_items_are_shared_as_read_only_copies()
    {
        await using var instance = CacheInstance.Create(redis: null);
        var computed = new List<ImmutablePost> { new(1, "a"), new(2, "b") };
        IReadOnlyList<ImmutablePost> first = await instance.Cache.GetOrCreateAsync("list", _ => ValueTask.FromResult<IReadOnlyList<ImmutablePost>>(computed));
        Assert.Same(computed, first); // the caller that computed it keeps its own instance
        computed.Add(new ImmutablePost(3, "added by the first caller after the fact"));

        IReadOnlyList<ImmutablePost> hit = await instance.Cache.GetOrCreateAsync("list", _ => ValueTask.FromResult<IReadOnlyList<ImmutablePost>>([]));
        Assert.Same(hit, await instance.Cache.GetOrCreateAsync("list", _ => ValueTask.FromResult<IReadOnlyList<ImmutablePost>>([])));
        Assert.Equal([new ImmutablePost(1, "a"), new ImmutablePost(2, "b")], hit);
        // Shared, so it must not be mutable through a cast.
        Assert.Throws<NotSupportedException>(() => ((IList<ImmutablePost>)hit).Add(new ImmutablePost(4, "x")));

        // Items that are not immutable are still copied per hit.
        IReadOnlyList<MutablePost> mutable = await instance.Cache.GetOrCreateAsync("mutable-list", _ => ValueTask.FromResult<IReadOnlyList<MutablePost>>([new MutablePost { Id = 1 }]));
        Assert.NotSame(
            await instance.Cache.GetOrCreateAsync("mutable-list", _ => ValueTask.FromResult<IReadOnlyList<MutablePost>>([])),
            await instance.Cache.GetOrCreateAsync("mutable-list", _ => ValueTask.FromResult<IReadOnlyList<MutablePost>>([])));
    }

    [Fact]
    public async Task SetAsync_then_hit()
    {
        await using var instance = CacheInstance.Create(redis: null);
        await instance.Cache.SetAsync("{posts}:1", "set", tags: Entry.Posts);

        Assert.Equal("set", await instance.Cache.GetOrCreateAsync("{posts}:1", Returns("computed"), tags: Entry.Posts));
        await instance.Cache.RemoveByTagAsync("posts");
        Assert.Equal("computed", await instance.Cache.GetOrCreateAsync("{posts}:1", Returns("computed"), tags: Entry.Posts));
    }

    [Fact]
    public async Task The_in_process_cache_is_bounded_by_entry_count()
    {
        await using var instance = CacheInstance.Create(redis: null, o => o.MaximumLocalEntries = 100);
        for (int i = 0; i < 1000; i++)
            await instance.Cache.GetOrCreateAsync("k" + i, _ => ValueTask.FromResult(i));

        Assert.InRange(instance.Hooks.LocalCount, 1, 100);
        // The newest entry survives the trim that its own insert may have caused.
        int calls = 0;
        await instance.Cache.GetOrCreateAsync("k999", _ => { calls++; return ValueTask.FromResult(0); });
        Assert.Equal(0, calls);
    }

    [Fact]
    public async Task Stampede_protection_works_in_process()
    {
        await using var instance = CacheInstance.Create(redis: null);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int calls = 0;
        Task<string>[] callers = Enumerable.Range(0, 100).Select(_ => instance.Cache.GetOrCreateAsync("cold", async _ =>
        {
            Interlocked.Increment(ref calls);
            await release.Task;
            return "slow";
        }).AsTask()).ToArray();
        release.SetResult();

        Assert.All(await Task.WhenAll(callers), v => Assert.Equal("slow", v));
        Assert.Equal(1, calls);
    }
}
