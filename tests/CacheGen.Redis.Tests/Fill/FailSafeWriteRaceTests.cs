using CacheGen.Infrastructure;
using CacheGen.Redis.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace CacheGen.Redis.Tests;

/// <summary>
/// The in-process exploration's rare violation, replayed step by step: a read after <c>SetAsync</c> returned an older
/// value. A fail-safe fill that registers just after a write took the key's fills out of the registry, and before the
/// write replaces or removes the key's in-process entry, finds that entry as its fallback; its data call then fails,
/// and the fail-safe throttle used to store the fallback back as a fresh hit over what the write left, gated only by
/// the fill's own invalidation, which that write had already done. With Redis the write's second step caught it;
/// in-process there was none. The hook pins the one interleaving the scheduler found about once in ten runs.
/// </summary>
public sealed class FailSafeWriteRaceTests
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(10);

    private static readonly CachedMethod FailSafe = new("Blog.PostService.GetAsync", "posts", new() { Expiration = Lifetime })
    {
        StaleFor = TimeSpan.FromSeconds(60),
    };

    private const string Key = "post:1";

    private static readonly string[] Tags = ["posts", "{posts}:post:1"];

    private static ValueTask<string> Read(CacheInstance instance, Func<ValueTask<string>> source) =>
        ((IMethodCache)instance.Cache).GetOrCreateAsync(FailSafe, Key, source, static (s, _) => s(), static _ => Tags, null, default);

    [Theory]
    [InlineData("set", "s")]
    [InlineData("remove", "v1")]
    [InlineData("write-through", "u")]
    public async Task A_failing_fill_that_registers_inside_a_write_never_brings_back_the_value_the_write_replaced(string write, string expected)
    {
        var clock = new FakeTimeProvider(DateTimeOffset.Parse("2026-12-07T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        await using CacheInstance cache = CacheInstance.Create(redis: null, time: clock);
        Assert.Equal("v0", await Read(cache, () => new("v0")));
        // Expired, and kept in-process for its stale window: what a failing data call may fall back on.
        clock.Advance(Lifetime + TimeSpan.FromSeconds(1));

        var source = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        ValueTask<string>? concurrent = null;
        cache.Hooks.AfterFillInvalidated = key =>
        {
            if (key != Key || concurrent is not null)
                return;
            // A reader misses right here: its fill registers after the write took the fills out, and finds v0.
            concurrent = Read(cache, async () =>
            {
                await source.Task;
                throw new InvalidOperationException("the database is down");
            });
        };

        var methods = (IMethodCache)cache.Cache;
        switch (write)
        {
            case "set":
                await cache.Cache.SetAsync(Key, "s", FailSafe.Options, Tags);
                break;
            case "remove":
                await cache.Cache.RemoveAsync(Key);
                break;
            default:
                CacheUpdate update = await methods.BeginUpdateAsync(FailSafe, Key, Tags);
                await methods.CompleteUpdateAsync(update, "u", unless: null);
                break;
        }
        cache.Hooks.AfterFillInvalidated = null;
        Assert.True(concurrent.HasValue, "the write never took the key's fills out");

        // The data call fails after the write returned. The concurrent reader may be answered with the expired value...
        source.SetResult();
        Assert.Equal("v0", await concurrent.Value);

        // ...but no reader after the write returned gets the value the write replaced or evicted.
        Assert.Equal(expected, await Read(cache, () => new("v1")));
    }

    [Fact]
    public async Task A_fill_that_registers_inside_a_set_does_not_overwrite_it_in_process_as_it_does_not_with_Redis()
    {
        await using CacheInstance cache = CacheInstance.Create(redis: null);
        var source = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        ValueTask<string>? concurrent = null;
        cache.Hooks.AfterFillInvalidated = key =>
        {
            if (key == Key && concurrent is null)
                concurrent = Read(cache, () => new(source.Task));
        };
        await cache.Cache.SetAsync(Key, "s", FailSafe.Options, Tags);
        cache.Hooks.AfterFillInvalidated = null;
        Assert.True(concurrent.HasValue, "the set never took the key's fills out");

        // The fill's data call began before the set returned and answers after: its caller gets it, the cache keeps "s".
        source.SetResult("f");
        Assert.Equal("f", await concurrent.Value);
        Assert.Equal("s", await Read(cache, () => new("v1")));
    }
}
