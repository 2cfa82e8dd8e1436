using System.Collections.Concurrent;
using System.Diagnostics.Tracing;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace CacheGen.Generator.Tests.Behaviour;

/// <summary>
/// JitterPercent, RefreshAheadPercent, TtlFrom and tags from the result as generated code does them against CacheGen's in-process HybridCache, on a fake clock; and what a
/// cache that cannot do it says.
/// </summary>
public sealed class FreshnessTests : IDisposable
{
    private readonly FakeTimeProvider _clock = new();
    private readonly ServiceProvider _services;
    private readonly RateBoard _rates;
    private readonly TokenDesk _tokens;

    public FreshnessTests()
    {
        _services = new ServiceCollection().AddLogging().AddSingleton<TimeProvider>(_clock).AddCacheGen().BuildServiceProvider();
        _rates = new RateBoard(_services.GetRequiredService<HybridCache>());
        TokenDesk.Clock = _clock;
        _tokens = new TokenDesk(_services.GetRequiredService<HybridCache>(), _clock);
    }

    public void Dispose() => _services.Dispose();

    private async Task<int> StillCachedAsync(string[] currencies, string marker)
    {
        int cached = 0;
        foreach (string currency in currencies)
            cached += await _rates.RateAsync(currency) == marker ? 1 : 0;
        return cached;
    }

    [Fact]
    public async Task Entries_stored_together_expire_spread_over_the_jitter_share_never_after_the_ttl()
    {
        string[] currencies = [.. Enumerable.Range(0, 100).Select(i => "C" + i)];
        foreach (string currency in currencies)
            await _rates.RateAsync(currency);
        Assert.Equal(100, _rates.Calls);
        _rates.Next = "v2";

        // TtlSeconds = 100 and JitterPercent = 50: each lives 50 to 100 s.
        _clock.Advance(TimeSpan.FromSeconds(49.9));
        Assert.Equal(100, await StillCachedAsync(currencies, "v1"));
        _clock.Advance(TimeSpan.FromSeconds(25));
        Assert.InRange(await StillCachedAsync(currencies, "v1"), 1, 99);
        _clock.Advance(TimeSpan.FromSeconds(25.2));
        Assert.Equal(0, await StillCachedAsync(currencies, "v1"));
    }

    [Fact]
    public async Task A_token_is_kept_as_long_as_it_is_valid_and_an_expired_one_is_not_kept()
    {
        Token first = await _tokens.TokenAsync("api");
        Assert.Equal(first, await _tokens.TokenAsync("api"));

        // Valid for 30 s: a hit until then, a new token right after.
        _clock.Advance(TimeSpan.FromSeconds(29.9));
        Assert.Equal(first, await _tokens.TokenAsync("api"));
        _clock.Advance(TimeSpan.FromSeconds(0.2));
        Token second = await _tokens.TokenAsync("api");
        Assert.NotEqual(first, second);

        // A token that is already expired (a lifetime of zero or less) is returned, not kept.
        _tokens.ValidFor = TimeSpan.Zero;
        int calls = _tokens.Calls;
        Token expired = await _tokens.TokenAsync("web");
        Assert.NotEqual(expired, await _tokens.TokenAsync("web"));
        Assert.NotEqual(_tokens.Token("web"), _tokens.Token("web"));
        Assert.Equal(calls + 4, _tokens.Calls);
    }

    [Fact]
    public void A_synchronous_method_keeps_each_value_for_its_own_lifetime()
    {
        _tokens.ValidFor = TimeSpan.FromSeconds(10);
        Token short1 = _tokens.Token("short");
        _tokens.ValidFor = TimeSpan.FromSeconds(100);
        Token long1 = _tokens.Token("long");

        _clock.Advance(TimeSpan.FromSeconds(50));
        Assert.NotEqual(short1, _tokens.Token("short"));
        Assert.Equal(long1, _tokens.Token("long"));
    }

    [Fact]
    public async Task A_write_through_keeps_its_value_for_the_values_own_lifetime_and_evicts_when_it_has_none()
    {
        Token read = await _tokens.TokenAsync("api");
        _tokens.ValidFor = TimeSpan.FromSeconds(60);
        Token rotated = await _tokens.RotateAsync("api");
        Assert.NotEqual(read, rotated);
        Assert.Equal(rotated, await _tokens.TokenAsync("api"));
        _clock.Advance(TimeSpan.FromSeconds(59));
        Assert.Equal(rotated, await _tokens.TokenAsync("api"));
        _clock.Advance(TimeSpan.FromSeconds(2));
        Assert.NotEqual(rotated, await _tokens.TokenAsync("api"));

        // A rotation to a token with no lifetime left replaces nothing: the old entry goes.
        Token current = await _tokens.TokenAsync("api");
        _tokens.ValidFor = TimeSpan.FromSeconds(-1);
        await _tokens.RotateAsync("api");
        _tokens.ValidFor = TimeSpan.FromSeconds(60);
        Assert.NotEqual(current, await _tokens.TokenAsync("api"));
    }

    [Fact]
    public async Task On_Microsofts_HybridCache_a_TtlFrom_method_is_not_cached_and_warns_once()
    {
        using var warnings = new FeatureWarnings();
        await using ServiceProvider services = new ServiceCollection().AddHybridCache().Services.BuildServiceProvider();
        var tokens = new TokenDesk(services.GetRequiredService<HybridCache>(), _clock);

        // A fixed lifetime could outlive the token, so every call runs the core method.
        Assert.NotEqual(await tokens.TokenAsync("api"), await tokens.TokenAsync("api"));
        Assert.Equal(2, tokens.Calls);

        EventWrittenEventArgs warning = Assert.Single(warnings.For("TokenDesk.TokenAsync"));
        Assert.Equal("TtlFrom (so it is not cached)", warning.Payload![1]);
    }

    [Fact]
    public async Task A_reprice_evicts_the_products_in_its_category_and_no_other()
    {
        var shelf = new ProductShelf(_services.GetRequiredService<HybridCache>());
        shelf.Rows[1] = (5, 10m);
        shelf.Rows[2] = (5, 11m);
        shelf.Rows[3] = (6, 12m);
        foreach (int id in new[] { 1, 2, 3, 1, 2, 3 })
            await shelf.GetAsync(id);
        Assert.Equal(3, shelf.Calls);

        await shelf.RepriceAsync(5, 20m);
        Assert.Equal(20m, (await shelf.GetAsync(1))!.Price);
        Assert.Equal(20m, (await shelf.GetAsync(2))!.Price);
        Assert.Equal(12m, (await shelf.GetAsync(3))!.Price);
        Assert.Equal(5, shelf.Calls);
    }

    [Fact]
    public async Task After_a_move_the_product_is_evicted_by_its_new_category_not_its_old_one()
    {
        var shelf = new ProductShelf(_services.GetRequiredService<HybridCache>());
        shelf.Rows[1] = (5, 10m);
        await shelf.GetAsync(1);
        Assert.Equal(6, (await shelf.MoveAsync(1, 6))!.CategoryId);
        Assert.Equal(6, (await shelf.GetAsync(1))!.CategoryId);
        Assert.Equal(1, shelf.Calls);   // the move stored it

        await shelf.RepriceAsync(5, 99m);
        Assert.Equal(10m, (await shelf.GetAsync(1))!.Price);
        Assert.Equal(1, shelf.Calls);

        await shelf.RepriceAsync(6, 30m);
        Assert.Equal(30m, (await shelf.GetAsync(1))!.Price);
        Assert.Equal(2, shelf.Calls);
    }

    [Fact]
    public async Task A_reprice_while_the_product_is_being_read_wins()
    {
        var shelf = new ProductShelf(_services.GetRequiredService<HybridCache>());
        shelf.Rows[1] = (5, 10m);
        shelf.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<ShelfProduct?> reading = shelf.GetAsync(1);   // has read the old price, not returned yet

        await shelf.RepriceAsync(5, 20m);
        shelf.Gate.SetResult();
        Assert.Equal(10m, (await reading)!.Price);   // its caller gets what it read
        shelf.Gate = null;

        // Not kept: the next read sees the new price.
        Assert.Equal(20m, (await shelf.GetAsync(1))!.Price);
        Assert.Equal(2, shelf.Calls);
    }

    [Fact]
    public async Task A_product_not_found_carries_no_category_and_is_cached()
    {
        var shelf = new ProductShelf(_services.GetRequiredService<HybridCache>());
        Assert.Null(await shelf.GetAsync(404));
        Assert.Null(await shelf.GetAsync(404));
        Assert.Equal(1, shelf.Calls);
    }

    [Fact]
    public async Task On_Microsofts_HybridCache_a_method_tagged_from_its_result_is_not_cached_and_warns_once()
    {
        using var warnings = new FeatureWarnings();
        await using ServiceProvider services = new ServiceCollection().AddHybridCache().Services.BuildServiceProvider();
        var shelf = new ProductShelf(services.GetRequiredService<HybridCache>());
        shelf.Rows[1] = (5, 10m);
        await shelf.GetAsync(1);
        await shelf.GetAsync(1);
        Assert.Equal(2, shelf.Calls);
        EventWrittenEventArgs warning = Assert.Single(warnings.For("ProductShelf.GetAsync"));
        Assert.Equal("tags from the result (so it is not cached)", warning.Payload![1]);
    }

    [Fact]
    public async Task On_Microsofts_HybridCache_a_jittered_method_reads_through_and_warns_once()
    {
        using var warnings = new FeatureWarnings();
        await using ServiceProvider services = new ServiceCollection().AddHybridCache().Services.BuildServiceProvider();
        var rates = new RateBoard(services.GetRequiredService<HybridCache>());

        Assert.Equal("v1", await rates.RateAsync("EUR"));
        Assert.Equal("v1", await rates.RateAsync("EUR"));
        Assert.Equal("v1", await rates.RateAsync("USD"));
        Assert.Equal(2, rates.Calls);

        EventWrittenEventArgs warning = Assert.Single(warnings.For("RateBoard.RateAsync"));
        Assert.Equal(1, warning.EventId);
        Assert.Equal("JitterPercent", warning.Payload![1]);
    }

    [Fact]
    public async Task A_method_refreshed_ahead_answers_with_the_current_value_and_refreshes_it_once_in_the_background()
    {
        var ticker = new RateTicker(_services.GetRequiredService<HybridCache>());
        Assert.Equal("v1", await ticker.RateAsync("EUR"));
        ticker.Next = "v2";

        // Before 80 of its 100 seconds: nothing happens.
        _clock.Advance(TimeSpan.FromSeconds(79));
        Assert.Equal("v1", await ticker.RateAsync("EUR"));
        await Task.Delay(50);
        Assert.Equal(1, ticker.Calls);

        // After: the hit still answers v1, and one refresh stores v2.
        _clock.Advance(TimeSpan.FromSeconds(2));
        for (int i = 0; i < 10; i++)
            Assert.Equal("v1", await ticker.RateAsync("EUR"));
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (await ticker.RateAsync("EUR") != "v2")
        {
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(20), "the refresh never stored its value");
            await Task.Delay(10);
        }
        Assert.Equal(2, ticker.Calls);
    }

    [Fact]
    public async Task On_Microsofts_HybridCache_a_method_refreshed_ahead_reads_through_and_warns_once()
    {
        using var warnings = new FeatureWarnings();
        await using ServiceProvider services = new ServiceCollection().AddHybridCache().Services.BuildServiceProvider();
        var ticker = new RateTicker(services.GetRequiredService<HybridCache>());

        Assert.Equal("v1", await ticker.RateAsync("EUR"));
        Assert.Equal("v1", await ticker.RateAsync("EUR"));
        Assert.Equal("v1", await ticker.RateAsync("USD"));
        Assert.Equal(2, ticker.Calls);

        EventWrittenEventArgs warning = Assert.Single(warnings.For("RateTicker.RateAsync"));
        Assert.Equal("RefreshAheadPercent", warning.Payload![1]);
    }

    /// <summary>The warnings of the CacheGen event source (its events come from every thread, so tests filter by method).</summary>
    private sealed class FeatureWarnings : EventListener
    {
        private readonly ConcurrentQueue<EventWrittenEventArgs> _events = new();

        public IEnumerable<EventWrittenEventArgs> For(string method) =>
            _events.Where(e => e.Payload is [string name, ..] && name.EndsWith(method, StringComparison.Ordinal));

        protected override void OnEventSourceCreated(EventSource eventSource)
        {
            if (eventSource.Name == "CacheGen")
                EnableEvents(eventSource, EventLevel.Warning);
        }

        protected override void OnEventWritten(EventWrittenEventArgs eventData) => _events.Enqueue(eventData);
    }
}
