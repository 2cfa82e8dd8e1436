using System.Globalization;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;

namespace CacheGen.Generator.Tests.Behaviour;

/// <summary>
/// Runs code this project's own build generated (the generator is also an analyzer here) against CacheGen's
/// in-process HybridCache: what the wrappers do, not only what they look like.
/// </summary>
public sealed class GeneratedCodeTests : IDisposable
{
    private readonly ServiceProvider _services;
    private readonly HybridCache _cache;

    public GeneratedCodeTests()
    {
        _services = new ServiceCollection().AddLogging().AddCacheGen().BuildServiceProvider();
        _cache = _services.GetRequiredService<HybridCache>();
    }

    public void Dispose() => _services.Dispose();

    [Fact]
    public async Task Cached_calls_the_core_once_then_serves_the_cached_value()
    {
        var catalog = new Catalog(_cache);
        Assert.Equal("item 1 v0", await catalog.GetAsync(1));
        catalog.Version = 1;
        Assert.Equal("item 1 v0", await catalog.GetAsync(1));
        Assert.Equal(1, catalog.CoreCalls);
        Assert.Equal("item 2 v1", await catalog.GetAsync(2));
        Assert.Equal(2, catalog.CoreCalls);
    }

    [Fact]
    public async Task Return_shapes_task_value_task_and_sync_all_read_through()
    {
        var catalog = new Catalog(_cache);
        Assert.Equal(7, await catalog.PeekAsync(7));
        Assert.Equal(7, await catalog.PeekAsync(7));
        Assert.Equal("sync 3", catalog.Describe(3));
        Assert.Equal("sync 3", catalog.Describe(3));
        Assert.Equal(2, catalog.CoreCalls);
    }

    [Fact]
    public async Task InvalidatesCache_evicts_the_region_after_the_core_completes()
    {
        var catalog = new Catalog(_cache);
        await catalog.GetAsync(1);
        catalog.Version = 1;
        await catalog.SaveAsync(1);
        Assert.Equal("item 1 v1", await catalog.GetAsync(1));
        Assert.Equal(2, catalog.CoreCalls);
    }

    [Fact]
    public async Task InvalidatesCache_does_not_evict_when_the_core_throws()
    {
        var catalog = new Catalog(_cache);
        await catalog.GetAsync(1);
        catalog.Version = 1;
        await Assert.ThrowsAsync<InvalidOperationException>(() => catalog.FailingSaveAsync(1));
        Assert.Throws<InvalidOperationException>(() => catalog.FailingSave(1));
        Assert.Equal("item 1 v0", await catalog.GetAsync(1));
        Assert.Equal(1, catalog.CoreCalls);
    }

    [Fact]
    public async Task InvalidatesCache_evicts_even_when_the_caller_cancels_after_the_core_completed()
    {
        var catalog = new Catalog(_cache);
        await catalog.GetAsync(1);
        catalog.Version = 1;
        using var cts = new CancellationTokenSource();
        await catalog.SaveAndCancelAsync(1, cts);
        Assert.True(cts.IsCancellationRequested);
        Assert.Equal("item 1 v1", await catalog.GetAsync(1));
    }

    [Fact]
    public async Task Keyed_eviction_evicts_only_that_entry()
    {
        var catalog = new Catalog(_cache);
        await catalog.GetByTemplateAsync(1);
        await catalog.GetByTemplateAsync(2);
        catalog.Version = 1;
        catalog.Touch(new Item { Id = 1 });
        Assert.Equal("item 1 v1", await catalog.GetByTemplateAsync(1));
        Assert.Equal("item 2 v0", await catalog.GetByTemplateAsync(2));
    }

    [Fact]
    public async Task Several_regions_are_all_evicted()
    {
        var catalog = new Catalog(_cache);
        await catalog.GetAsync(1);
        Assert.Equal(1, await catalog.CountTagsAsync());
        catalog.Version = 1;
        await catalog.RenameAsync();
        Assert.Equal("item 1 v1", await catalog.GetAsync(1));
        Assert.Equal(2, await catalog.CountTagsAsync());
    }

    [Fact]
    public async Task CancellationToken_is_passed_to_the_core_and_is_not_part_of_the_key()
    {
        var catalog = new Catalog(_cache);
        using var first = new CancellationTokenSource();
        using var second = new CancellationTokenSource();
        Assert.Equal("item 5 v0", await catalog.GetAsync(5, first.Token));
        Assert.Equal("item 5 v0", await catalog.GetAsync(5, second.Token));
        Assert.Equal(1, catalog.CoreCalls);
        Assert.True(catalog.LastTokenCouldBeCancelled);

        // The token reaches the core method: cancelling the caller cancels the work on a miss.
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => catalog.GetAsync(6, cancelled.Token));
    }

    [Fact]
    public void Default_keys_tell_apart_null_empty_separators_and_overloads()
    {
        var keys = new KeyProbe(_cache);
        string?[][] argumentLists =
        [
            [null, null], ["", null], [null, ""], ["", ""],
            ["a|b", "c"], ["a", "b|c"], ["a\\", "|c"], ["a\\|", "c"],
            ["\\0", null], [null, "\\0"], ["0", ""],
        ];
        var results = argumentLists.Select(a => keys.Pair(a[0], a[1])).ToList();
        results.Add(keys.Single("a|b|c"));
        results.Add(keys.Number(1));
        results.Add(keys.Number(1L));
        Assert.Equal(results.Count, results.Distinct().Count());
        Assert.Equal(results.Count, keys.CoreCalls);

        // The same arguments again are all hits.
        foreach (string?[] a in argumentLists)
            keys.Pair(a[0], a[1]);
        Assert.Equal(results.Count, keys.CoreCalls);
    }

    [Fact]
    public async Task Default_keys_tell_apart_generic_instantiations()
    {
        Registry<int>.Cache = _cache;
        Registry<long>.Cache = _cache;
        Assert.Equal("Int32:5", await Registry<int>.LookupAsync(5));
        Assert.Equal("Int64:5", await Registry<long>.LookupAsync(5));
        Assert.Equal("Int32:5", await Registry<int>.LookupAsync(5));
    }

    [Fact]
    public async Task Default_keys_are_culture_invariant()
    {
        var keys = new KeyProbe(_cache);
        CultureInfo previous = CultureInfo.CurrentCulture;
        try
        {
            CultureInfo.CurrentCulture = new CultureInfo("de-DE");
            string german = await keys.RatioAsync(1.5);
            CultureInfo.CurrentCulture = new CultureInfo("en-US");
            string english = await keys.RatioAsync(1.5);
            Assert.Equal(german, english);
            Assert.Equal(1, keys.CoreCalls);
        }
        finally
        {
            CultureInfo.CurrentCulture = previous;
        }
    }

    [Fact]
    public void Sync_wrapper_does_not_deadlock_under_a_single_threaded_synchronization_context()
    {
        // A HybridCache that resumes on the captured context, as a careless implementation would.
        var cache = new ContextCapturingCache(_cache);
        var catalog = new SyncCatalog(cache);
        string? result = null;
        var thread = new Thread(() =>
        {
            var context = new SingleThreadContext();
            SynchronizationContext.SetSynchronizationContext(context);
            result = catalog.Describe(1);
        });
        thread.IsBackground = true; // a deadlock must fail this test, not hang the test run
        thread.Start();
        Assert.True(thread.Join(TimeSpan.FromSeconds(30)), "the synchronous wrapper deadlocked");
        Assert.Equal("sync 1", result);
    }
}
