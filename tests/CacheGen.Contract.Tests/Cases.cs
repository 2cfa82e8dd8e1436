namespace CacheGen.Contract.Tests;

/// <summary>
/// Which implementations each contract test runs on. A (test, implementation) pair listed in <see cref="Gaps"/> fails
/// today: a CacheGen row runs in <see cref="KnownGapContract"/> (trait <c>Contract=KnownGap</c>) until its fix lands, a
/// row of Microsoft's control in <see cref="ControlGapContract"/> (trait <c>Contract=ControlGap</c>). Both traits are
/// left out of the default run by this project's runsettings; every other pair runs in <see cref="Contract"/>.
/// </summary>
public static class Cases
{
    private const string Microsoft = "Microsoft", MicrosoftRedis = "Microsoft+Redis", CacheGen = "CacheGen", CacheGenRedis = "CacheGen+Redis";

    /// <summary>(test, implementation) → what goes wrong there. Remove a line when its fix lands.</summary>
    public static readonly IReadOnlyDictionary<(string Test, string Implementation), string> Gaps =
        new Dictionary<(string, string), string>
        {
            // Public fields are not serialized, so a read back through the serialized path has X = 0, Label = null.
            [(nameof(Contract.RoundTrip_class_with_public_fields), CacheGen)] = "fields lost: the in-process copy is deserialized without them",
            [(nameof(Contract.RoundTrip_class_with_public_fields), CacheGenRedis)] = "fields lost: the Redis copy is deserialized without them",
            [(nameof(Contract.RoundTrip_value_tuple), CacheGenRedis)] = "(1, 2) reads back from Redis as (0, 0): ValueTuple's fields are not serialized",
            // "*" clears the in-process tier only; the Redis entries stay readable until their TTL.
            [(nameof(Contract.RemoveByTag_star_removes_every_entry_tagged_or_not), CacheGenRedis)] = "the old value comes back from Redis after \"*\"",
            [(nameof(Contract.RemoveByTag_star_is_seen_by_an_instance_reading_the_distributed_cache), CacheGenRedis)] = "another instance reads the old value from Redis after \"*\"",
            [(nameof(Contract.RemoveByTag_star_is_seen_by_an_instance_reading_the_distributed_cache), MicrosoftRedis)] = "another instance reads the old value from Redis after \"*\"",
            // The L1 lifetime of a value read from Redis is the caller's LocalCacheExpiration, not the entry's remaining TTL.
            [(nameof(Contract.LocalCacheExpiration_of_a_value_read_from_the_second_tier_ends_with_its_remaining_lifetime), CacheGenRedis)] =
                "the in-process copy outlives the Redis entry (served for the caller's LocalCacheExpiration)",
            // "Implementors should treat null as empty" (RemoveAsync(IEnumerable), RemoveByTagAsync(IEnumerable)).
            [(nameof(Contract.RemoveKeys_null_list_is_treated_as_empty), CacheGen)] = "ArgumentNullException (keys)",
            [(nameof(Contract.RemoveKeys_null_list_is_treated_as_empty), CacheGenRedis)] = "ArgumentNullException (keys)",
            [(nameof(Contract.RemoveByTags_null_list_is_treated_as_empty), CacheGen)] = "ArgumentNullException (tags)",
            [(nameof(Contract.RemoveByTags_null_list_is_treated_as_empty), CacheGenRedis)] = "ArgumentNullException (tags)",
            // Null single keys, tags and list entries: the docs are silent; these rows expect "like empty".
            [(nameof(Contract.RemoveByTag_null_behaves_like_removing_nothing), CacheGen)] = "ArgumentNullException (tag); Microsoft ignores it",
            [(nameof(Contract.RemoveByTag_null_behaves_like_removing_nothing), CacheGenRedis)] = "ArgumentNullException (tag); Microsoft ignores it",
            [(nameof(Contract.RemoveKey_null_behaves_like_removing_nothing), CacheGen)] = "ArgumentNullException (key)",
            [(nameof(Contract.RemoveKey_null_behaves_like_removing_nothing), CacheGenRedis)] = "ArgumentNullException (key)",
            [(nameof(Contract.RemoveKey_null_behaves_like_removing_nothing), Microsoft)] = "ArgumentNullException (key)",
            [(nameof(Contract.RemoveKey_null_behaves_like_removing_nothing), MicrosoftRedis)] = "ArgumentNullException (key)",
            [(nameof(Contract.RemoveKeys_a_null_entry_does_not_stop_the_others), CacheGen)] = "ArgumentNullException (key) for the null entry",
            [(nameof(Contract.RemoveKeys_a_null_entry_does_not_stop_the_others), CacheGenRedis)] = "ArgumentNullException (key) for the null entry",
            [(nameof(Contract.RemoveKeys_a_null_entry_does_not_stop_the_others), Microsoft)] = "ArgumentNullException (key) for the null entry",
            [(nameof(Contract.RemoveKeys_a_null_entry_does_not_stop_the_others), MicrosoftRedis)] = "ArgumentNullException (key) for the null entry",
            // Microsoft hands the deserializer's exception to the caller instead of the data.
            [(nameof(Contract.RoundTrip_a_value_that_cannot_be_read_back_still_reaches_the_caller), Microsoft)] = "InvalidOperationException from the setter reaches the caller",
            [(nameof(Contract.RoundTrip_a_value_that_cannot_be_read_back_still_reaches_the_caller), MicrosoftRedis)] = "InvalidOperationException from the setter reaches the caller",
        };

    /// <summary>Every implementation except the gaps of <paramref name="test"/>.</summary>
    public static TheoryData<string> All(string test) => Of(test, Implementation.All, row => !IsGap(test, row));

    /// <summary>The implementations with a shared second tier, except the gaps.</summary>
    public static TheoryData<string> Distributed(string test) => Of(test, Implementation.All.Where(i => i.Distributed), row => !IsGap(test, row));

    /// <summary>The implementations without a second tier, except the gaps.</summary>
    public static TheoryData<string> InProcess(string test) => Of(test, Implementation.All.Where(i => !i.Distributed), row => !IsGap(test, row));

    /// <summary>The CacheGen rows of <paramref name="test"/> that fail until the runtime is fixed.</summary>
    public static TheoryData<string> CacheGenGaps(string test) => Of(test, Implementation.All.Where(i => i.IsCacheGen), row => IsGap(test, row));

    /// <summary>The rows of <paramref name="test"/> where Microsoft's HybridCache, the control, does not do what the docs say.</summary>
    public static TheoryData<string> ControlGaps(string test) => Of(test, Implementation.All.Where(i => !i.IsCacheGen), row => IsGap(test, row));

    private static bool IsGap(string test, Implementation row) => Gaps.ContainsKey((test, row.Name));

    private static TheoryData<string> Of(string test, IEnumerable<Implementation> implementations, Func<Implementation, bool> include)
    {
        var data = new TheoryData<string>();
        foreach (Implementation implementation in implementations.Where(include))
            data.Add(implementation.Name);
        return data;
    }
}
