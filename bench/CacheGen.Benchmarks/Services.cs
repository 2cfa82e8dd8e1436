using System.Globalization;
using Microsoft.Extensions.Caching.Hybrid;

namespace CacheGen.Benchmarks;

/// <summary>A small value that is a reference type: Microsoft's HybridCache copies it (deserializes) on every L1 hit.</summary>
public sealed record Item(int Id, string Name);

/// <summary>The same, promised immutable: caches that honour [ImmutableObject(true)] may share one instance on hits.</summary>
[System.ComponentModel.ImmutableObject(true)]
public sealed record ImmutableItem(int Id, string Name);

/// <summary>The shape of the sample's post, for payloads of realistic size (1000 of them ≈ the /posts/ body).</summary>
public sealed record BenchPost(int Id, string Title, string Content);

/// <summary>
/// The code under test: one-int-argument methods written by the generator, and the same calls written by hand on the
/// same <see cref="HybridCache"/>.
/// </summary>
public sealed partial class ItemService(HybridCache cache)
{
    private static readonly string[] Tags = ["items"];

    [Cached("items", Key = "number:{id}")]
    public partial ValueTask<int> GetNumberAsync(int id);
    private ValueTask<int> GetNumberCoreAsync(int id) => new(id * 2);

    // Mutable on purpose: this measures what a copy per hit costs (CG0018 says so at compile time).
#pragma warning disable CG0018
    [Cached("items", Key = "item:{id}")]
    public partial ValueTask<Item> GetItemAsync(int id);
#pragma warning restore CG0018
    private ValueTask<Item> GetItemCoreAsync(int id) => new(new Item(id, "item " + id.ToString(CultureInfo.InvariantCulture)));

    [Cached("items", Key = "immutable:{id}")]
    public partial ValueTask<ImmutableItem> GetImmutableItemAsync(int id);
    private ValueTask<ImmutableItem> GetImmutableItemCoreAsync(int id) => new(new ImmutableItem(id, "item " + id.ToString(CultureInfo.InvariantCulture)));

    /// <summary>
    /// What a careful author writes by hand: the same key text built on the stack, the same static lambda over a
    /// tuple, the same tags. The floor the generated wrapper is measured against.
    /// </summary>
    public ValueTask<int> GetNumberByHandAsync(int id)
    {
        Span<char> key = stackalloc char[32];
        "{items}:number:".CopyTo(key);
        id.TryFormat(key[15..], out int digits, provider: CultureInfo.InvariantCulture);
        return cache.GetOrCreateAsync(key[..(15 + digits)], (this, id),
            static (state, _) => state.Item1.GetNumberCoreAsync(state.Item2), null, Tags);
    }

    /// <summary>What most people write by hand: an interpolated key (HybridCache has an overload that takes the
    /// interpolation handler, so no string is allocated on a hit).</summary>
    public ValueTask<int> GetNumberByHandStringKeyAsync(int id) =>
        cache.GetOrCreateAsync($"{{items}}:number:{id}", (this, id),
            static (state, _) => state.Item1.GetNumberCoreAsync(state.Item2), null, Tags);
}

/// <summary>A region to fill and evict: the eviction benchmark calls the generated [InvalidatesCache] wrapper.</summary>
public sealed partial class RegionService(HybridCache cache)
{
    [Cached("region", Key = "e:{id}")]
    public partial ValueTask<int> GetAsync(int id);
    private ValueTask<int> GetCoreAsync(int id) => new(id);

    [InvalidatesCache("region")]
    public partial ValueTask<int> ClearAsync();
    private ValueTask<int> ClearCoreAsync() => new(0);
}
