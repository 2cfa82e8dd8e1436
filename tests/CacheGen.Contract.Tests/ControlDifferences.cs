namespace CacheGen.Contract.Tests;

/// <summary>
/// What Microsoft's HybridCache, the control, does on the rows <see cref="Cases.Differences"/> leaves out of a contract
/// test. Pinned, so each difference stays a documented one: if the control changes, this fails and the table is
/// revisited.
/// </summary>
[Collection(ContractCollection.Name)]
public sealed class ControlDifferences(ContractRedis redis)
{
    [Theory]
    [MemberData(nameof(Cases.ControlDiffers), nameof(Contract.RemoveKeys_a_null_entry_does_not_stop_the_others), MemberType = typeof(Cases))]
    public async Task The_control_refuses_a_null_entry_in_the_key_list(string implementation)
    {
        await using var caches = new CacheSet(Implementation.Named(implementation), redis, null, null);
        string a = Keys.Unique();
        await caches.First.SetAsync(a, "old");

        await Assert.ThrowsAsync<ArgumentNullException>(() => caches.First.RemoveAsync([a, null!]).AsTask());
    }

    [Theory]
    [MemberData(nameof(Cases.ControlDiffers), nameof(Contract.RoundTrip_a_value_that_cannot_be_read_back_still_reaches_the_caller), MemberType = typeof(Cases))]
    public async Task The_control_hands_the_deserializers_exception_even_to_the_caller_that_computed_the_value(string implementation)
    {
        await using var caches = new CacheSet(Implementation.Named(implementation), redis, null, null);
        string key = Keys.Unique();

        // The control copies a mutable value through its serializer before returning it, so the factory's own caller
        // gets the exception; CacheGen returns the value and does not cache the type.
        await Assert.ThrowsAsync<InvalidOperationException>(() => caches.First.GetOrCreateAsync(key, _ => ValueTask.FromResult(new OneWay(7))).AsTask());
    }

    [Theory]
    [MemberData(nameof(Cases.ControlDiffers), nameof(GeneratedContract.UpdatesCache_the_next_read_returns_the_written_value_without_asking_the_source), MemberType = typeof(Cases))]
    public async Task On_the_control_a_write_through_evicts_so_the_next_read_asks_the_source_once(string implementation)
    {
        await using var caches = new CacheSet(Implementation.Named(implementation), redis, null, null);
        var store = new PostStore();
        var posts = new PostService(store, caches.First);
        await posts.GetAsync(1);
        int before = store.Reads;

        Post? renamed = await posts.RenameAsync(1, "renamed");

        Assert.Equal(renamed, await posts.GetAsync(1));
        Assert.Equal(before + 1, store.Reads);
    }
}
