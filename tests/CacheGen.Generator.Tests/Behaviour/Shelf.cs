using Microsoft.Extensions.Caching.Hybrid;

namespace CacheGen.Generator.Tests.Behaviour;

/// <summary>
/// Items read one at a time and many at once through [CachedBatch], as a user would write them; this project's build
/// generates the wrappers. The cores count what they are asked for.
/// </summary>
public sealed partial class Shelf(HybridCache cache)
{
    private readonly List<int[]> _batches = [];
    private int _singles;

    /// <summary>Ids the store does not have.</summary>
    public HashSet<int> Missing { get; } = [];

    public IReadOnlyList<int[]> Batches
    {
        get
        {
            lock (_batches)
                return [.. _batches];
        }
    }

    public int Singles => _singles;

    [Cached("shelf", Key = "item:{id}", Tags = ["item:{id}"])]
    public partial Task<string?> GetAsync(int id, CancellationToken ct = default);
    private Task<string?> GetCoreAsync(int id, CancellationToken ct)
    {
        Interlocked.Increment(ref _singles);
        return Task.FromResult(Missing.Contains(id) ? null : "item " + id);
    }

    [CachedBatch(nameof(GetAsync))]
    public partial Task<IReadOnlyDictionary<int, string>> GetManyAsync(IReadOnlyCollection<int> ids, CancellationToken ct = default);
    private Task<IReadOnlyDictionary<int, string>> GetManyCoreAsync(IReadOnlyCollection<int> ids, CancellationToken ct) =>
        Task.FromResult<IReadOnlyDictionary<int, string>>(Load(ids, id => "item " + id));

    [InvalidatesCache(Tags = ["item:{id}"])]
    public partial Task TouchAsync(int id);
    private Task TouchCoreAsync(int id) => Task.CompletedTask;

    // Evicting many: one entry of GetAsync per id, and one tag per id.
    [InvalidatesCache(Method = nameof(GetAsync))]
    public partial Task<int> ArchiveAsync(IReadOnlyList<int> ids, CancellationToken ct = default);
    private Task<int> ArchiveCoreAsync(IReadOnlyList<int> ids, CancellationToken ct) => Task.FromResult(ids.Count);

    [InvalidatesCache(Tags = ["item:{ids}"])]
    public partial void TouchMany(int[] ids);
    private void TouchManyCore(int[] ids)
    {
    }

    // A key with an argument the batch passes as it is: the tenant.
    [Cached("shelf", Key = "tenant:{tenant}:item:{id}")]
    public partial ValueTask<string?> GetForAsync(string tenant, int id);
    private ValueTask<string?> GetForCoreAsync(string tenant, int id)
    {
        Interlocked.Increment(ref _singles);
        return new(tenant + " item " + id);
    }

    [CachedBatch(nameof(GetForAsync))]
    public partial ValueTask<Dictionary<int, string>> GetManyForAsync(string tenant, int[] ids);
    private ValueTask<Dictionary<int, string>> GetManyForCoreAsync(string tenant, int[] ids) => new(Load(ids, id => tenant + " item " + id));

    private Dictionary<int, string> Load(IEnumerable<int> ids, Func<int, string> value)
    {
        lock (_batches)
            _batches.Add([.. ids]);
        return ids.Where(id => !Missing.Contains(id)).ToDictionary(id => id, value);
    }
}
