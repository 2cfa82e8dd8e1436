using System.Collections.Concurrent;
using System.Diagnostics.Tracing;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;

namespace CacheGen.Generator.Tests.Behaviour;

/// <summary>
/// [CachedBatch] as generated: the batch and the single method share every entry (key, tags, null as not found),
/// on CacheGen's in-process cache; on Microsoft's HybridCache it reads id by id and says so once.
/// </summary>
public sealed class BatchBehaviourTests : IDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection().AddLogging().AddCacheGen().BuildServiceProvider();
    private readonly Shelf _shelf;

    public BatchBehaviourTests() => _shelf = new Shelf(_services.GetRequiredService<HybridCache>());

    public void Dispose() => _services.Dispose();

    [Fact]
    public async Task A_batch_loads_the_missed_ids_once_and_the_single_method_reads_what_it_stored()
    {
        _shelf.Missing.Add(3);
        Assert.Equal("item 1", await _shelf.GetAsync(1));

        IReadOnlyDictionary<int, string> items = await _shelf.GetManyAsync([1, 2, 3, 2]);

        Assert.Equal(["item 1", "item 2"], items.OrderBy(p => p.Key).Select(p => p.Value));
        Assert.Equal([[2, 3]], _shelf.Batches);
        // Id 2 is GetAsync's entry, id 3 its null (not found): neither core runs again.
        Assert.Equal("item 2", await _shelf.GetAsync(2));
        Assert.Null(await _shelf.GetAsync(3));
        Assert.Equal(1, _shelf.Singles);
    }

    [Fact]
    public async Task Each_entry_has_the_single_methods_tags()
    {
        await _shelf.GetManyAsync([1, 2]);
        await _shelf.TouchAsync(2);

        await _shelf.GetManyAsync([1, 2]);

        Assert.Equal([[1, 2], [2]], _shelf.Batches);
    }

    [Fact]
    public async Task A_collection_of_ids_evicts_one_entry_or_one_tag_per_id()
    {
        await _shelf.GetManyAsync([1, 2, 3, 4]);

        Assert.Equal(2, await _shelf.ArchiveAsync([1, 2]));
        _shelf.TouchMany([3]);
        await _shelf.GetManyAsync([1, 2, 3, 4]);

        Assert.Equal([[1, 2, 3, 4], [1, 2, 3]], _shelf.Batches);
    }

    [Fact]
    public async Task Arguments_the_batch_passes_as_they_are_are_part_of_each_key()
    {
        Dictionary<int, string> items = await _shelf.GetManyForAsync("a", [1, 2]);

        Assert.Equal("a item 1", items[1]);
        Assert.Equal("a item 2", await _shelf.GetForAsync("a", 2));
        Assert.Equal(0, _shelf.Singles);
        Assert.Equal("b item 2", await _shelf.GetForAsync("b", 2));
        Assert.Equal(1, _shelf.Singles);
    }

    [Fact]
    public async Task On_Microsofts_HybridCache_a_batch_reads_id_by_id_and_says_so_once()
    {
        using var warnings = new FeatureWarnings();
        await using ServiceProvider services = new ServiceCollection().AddHybridCache().Services.BuildServiceProvider();
        var shelf = new Shelf(services.GetRequiredService<HybridCache>());
        shelf.Missing.Add(3);

        IReadOnlyDictionary<int, string> items = await shelf.GetManyAsync([1, 2, 3]);
        await shelf.GetManyAsync([1, 2, 3]);

        Assert.Equal([1, 2], items.Keys.Order());
        // One core call per id, once: the second batch is all hits (the null of id 3 included).
        Assert.Equal([[1], [2], [3]], shelf.Batches);
        Assert.Equal("item 2", await shelf.GetAsync(2));
        Assert.Equal(0, shelf.Singles);
        EventWrittenEventArgs warning = Assert.Single(warnings.For("Shelf.GetAsync"), e => e.Payload![1] is string f && f.StartsWith("CachedBatch", StringComparison.Ordinal));
        Assert.Equal(EventLevel.Warning, warning.Level);
    }

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
