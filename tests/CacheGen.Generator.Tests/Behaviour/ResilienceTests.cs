using System.Collections.Concurrent;
using System.Diagnostics.Tracing;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace CacheGen.Generator.Tests.Behaviour;

/// <summary>
/// CacheNull, Unless and StaleSeconds as generated code does them against CacheGen's in-process HybridCache, on a fake
/// clock: what is returned, what is stored, and when an expired value stands in for a failure; and what a cache that
/// cannot do them says.
/// </summary>
public sealed class ResilienceTests : IDisposable
{
    private readonly FakeTimeProvider _clock = new();
    private readonly ServiceProvider _services;
    private readonly Newsroom _news;

    public ResilienceTests()
    {
        // AddCacheGen takes the TimeProvider registered before it (it adds the system clock only if there is none).
        _services = new ServiceCollection().AddLogging().AddSingleton<TimeProvider>(_clock).AddCacheGen().BuildServiceProvider();
        _news = new Newsroom(_services.GetRequiredService<HybridCache>());
    }

    public void Dispose() => _services.Dispose();

    [Fact]
    public async Task CacheNull_false_returns_a_null_result_without_storing_it()
    {
        Assert.Null(await _news.FindAsync(1));
        Assert.Null(await _news.FindAsync(1));
        Assert.Equal(2, _news.Calls);

        // A value is stored as usual.
        _news.Next = "found";
        Assert.Equal("found", await _news.FindAsync(1));
        Assert.Equal("found", await _news.FindAsync(1));
        Assert.Equal(3, _news.Calls);
    }

    [Fact]
    public async Task Callers_that_joined_one_call_all_get_its_null_or_rejected_result_and_none_is_stored()
    {
        _news.Gate = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<string?> first = _news.FindAsync(1);
        Task<string?> joined = _news.FindAsync(1);
        ValueTask<string?> title = _news.TitleAsync(1);
        ValueTask<string?> joinedTitle = _news.TitleAsync(1);
        Assert.Equal(2, _news.Calls);

        _news.Gate.SetResult(null);
        Assert.Null(await first);
        Assert.Null(await joined);
        // A null is no draft: TitleAsync (CacheNull true) stores it, FindAsync (CacheNull false) does not.
        Assert.Null(await title);
        Assert.Null(await joinedTitle);

        _news.Gate = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<string?> draft = _news.TitleAsync(2).AsTask();
        Task<string?> joinedDraft = _news.TitleAsync(2).AsTask();
        _news.Gate.SetResult("draft 2");
        Assert.Equal("draft 2", await draft);
        Assert.Equal("draft 2", await joinedDraft);
        Assert.Equal(3, _news.Calls);

        _news.Gate = null;
        _news.Next = "final";
        Assert.Equal("final", await _news.FindAsync(1));
        Assert.Null(await _news.TitleAsync(1));
        Assert.Equal("final", await _news.TitleAsync(2));
        Assert.Equal(5, _news.Calls);
    }

    [Fact]
    public async Task A_result_Unless_rejects_is_returned_and_not_stored_one_it_accepts_is_stored()
    {
        _news.Next = "draft 1";
        Assert.Equal("draft 1", await _news.TitleAsync(1));
        Assert.Equal("draft 1", await _news.TitleAsync(1));
        Assert.Equal(2, _news.Calls);

        _news.Next = "final 1";
        Assert.Equal("final 1", await _news.TitleAsync(1));
        _news.Next = "final 2";
        Assert.Equal("final 1", await _news.TitleAsync(1));
        Assert.Equal(3, _news.Calls);

        // CacheNull is true by default: a null the predicate accepts is stored like any value.
        _news.Next = null;
        Assert.Null(await _news.TitleAsync(2));
        _news.Next = "final 2";
        Assert.Null(await _news.TitleAsync(2));
        Assert.Equal(4, _news.Calls);
    }

    [Fact]
    public async Task A_write_through_does_not_store_a_null_the_cached_method_would_not()
    {
        _news.Next = "found";
        await _news.FindAsync(1);
        _news.Next = null;
        Assert.Null(await _news.ReplaceAsync(1));

        // The write changed the entry, to a value FindAsync never caches: the next read asks the core.
        _news.Next = "found again";
        Assert.Equal("found again", await _news.FindAsync(1));
    }

    [Fact]
    public async Task A_write_through_does_not_store_a_result_Unless_rejects()
    {
        _news.Next = "final";
        await _news.TitleAsync(1);
        _news.Next = "draft";
        Assert.Equal("draft", await _news.RetitleAsync(1));

        _news.Next = "final again";
        Assert.Equal("final again", await _news.TitleAsync(1));
    }

    [Fact]
    public void A_sync_method_applies_Unless_too()
    {
        _news.Next = "draft";
        Assert.Equal("draft", _news.Title(1));
        _news.Next = "final";
        Assert.Equal("final", _news.Title(1));
        _news.Next = "final again";
        Assert.Equal("final", _news.Title(1));
        Assert.Equal(2, _news.Calls);
    }

    [Fact]
    public async Task After_expiry_a_failing_core_gets_the_expired_value_back()
    {
        _news.Next = "headline v0";
        Assert.Equal("headline v0", await _news.HeadlineAsync(1));

        _clock.Advance(TimeSpan.FromSeconds(61));
        _news.Failure = new InvalidOperationException("the store is down");
        Assert.Equal("headline v0", await _news.HeadlineAsync(1));
        Assert.Equal(2, _news.Calls);

        // Once the store answers again, the fresh value replaces the expired one (past the fail-safe throttle).
        _clock.Advance(TimeSpan.FromSeconds(30));
        _news.Failure = null;
        _news.Next = "headline v1";
        Assert.Equal("headline v1", await _news.HeadlineAsync(1));
    }

    [Fact]
    public async Task Before_expiry_the_value_is_a_hit_and_the_core_is_not_asked()
    {
        _news.Next = "headline v0";
        await _news.HeadlineAsync(1);
        _clock.Advance(TimeSpan.FromSeconds(59));
        _news.Failure = new InvalidOperationException("the store is down");
        Assert.Equal("headline v0", await _news.HeadlineAsync(1));
        Assert.Equal(1, _news.Calls);
    }

    [Fact]
    public async Task After_expiry_a_slow_core_is_answered_for_with_the_expired_value_at_the_timeout()
    {
        _news.Next = "headline v0";
        await _news.SlowHeadlineAsync(1);
        _clock.Advance(TimeSpan.FromSeconds(61));

        _news.Gate = new TaskCompletionSource<string?>();
        Task<string?> slow = _news.SlowHeadlineAsync(1);
        Assert.False(slow.IsCompleted); // it waits for the core until the timeout...
        _clock.Advance(TimeSpan.FromMilliseconds(199));
        Assert.False(slow.IsCompleted);
        _clock.Advance(TimeSpan.FromMilliseconds(1));
        // ...then answers with the expired value. The answer reaches the caller on another thread; the real-time bound
        // only turns a missing answer into a failure instead of a hang.
        Assert.Equal("headline v0", await slow.WaitAsync(TimeSpan.FromSeconds(30), TimeProvider.System));
        Assert.Equal(2, _news.Calls);
        // The core goes on in the background (when its result lands is the Redis tests' to check, with the cache's hooks).
        _news.Gate.SetResult("headline v1");
    }

    [Fact]
    public async Task An_evicted_value_is_never_served_for_a_failure()
    {
        _news.Next = "headline v0";
        await _news.HeadlineAsync(1);
        _clock.Advance(TimeSpan.FromSeconds(61));
        await _news.EvictHeadlinesAsync();

        _news.Failure = new InvalidOperationException("the store is down");
        var thrown = await Assert.ThrowsAsync<InvalidOperationException>(() => _news.HeadlineAsync(1));
        Assert.Same(_news.Failure, thrown);
    }

    [Fact]
    public async Task Past_the_stale_window_the_failure_is_thrown()
    {
        _news.Next = "headline v0";
        await _news.HeadlineAsync(1);
        _clock.Advance(TimeSpan.FromSeconds(60 + 600 + 1));

        _news.Failure = new InvalidOperationException("the store is down");
        await Assert.ThrowsAsync<InvalidOperationException>(() => _news.HeadlineAsync(1));
    }

    [Fact]
    public async Task On_Microsofts_HybridCache_a_fail_safe_method_reads_through_and_warns_once()
    {
        using var warnings = new FeatureWarnings();
        await using ServiceProvider services = new ServiceCollection().AddHybridCache().Services.BuildServiceProvider();
        var wire = new Wire(services.GetRequiredService<HybridCache>());

        Assert.Equal("story 1", await wire.StoryAsync(1));
        Assert.Equal("story 1", await wire.StoryAsync(1));
        Assert.Equal("story 2", await wire.StoryAsync(2));
        Assert.Equal(2, wire.Calls);

        EventWrittenEventArgs warning = Assert.Single(warnings.For("Wire.StoryAsync"));
        Assert.Equal(1, warning.EventId);
        Assert.Equal(EventLevel.Warning, warning.Level);
        Assert.Equal("StaleSeconds", warning.Payload![1]);
    }

    /// <summary>The warnings of the CacheGen event source (its events come from every thread, so tests filter by method).</summary>
    private sealed class FeatureWarnings : EventListener
    {
        // Initialised before the base constructor, which may already report the existing sources.
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
