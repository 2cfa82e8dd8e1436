namespace CacheGen.Contract.Tests;

/// <summary>
/// Which implementations each contract test runs on. A (test, implementation) pair listed in <see cref="Differences"/>
/// is left out of that test: Microsoft's HybridCache, the control, does not do what the test asserts there, and
/// <see cref="ControlDifferences"/> pins what it does instead, so a difference is always a documented one.
/// </summary>
public static class Cases
{
    private const string Microsoft = "Microsoft", MicrosoftRedis = "Microsoft+Redis";

    /// <summary>(test, implementation) → how the control differs there, and why CacheGen does otherwise.</summary>
    public static readonly IReadOnlyDictionary<(string Test, string Implementation), string> Differences =
        new Dictionary<(string, string), string>
        {
            // The docs say "implementors should treat null as empty" for the lists; CacheGen skips a null entry too.
            [(nameof(Contract.RemoveKeys_a_null_entry_does_not_stop_the_others), Microsoft)] = "ArgumentNullException for the null entry (pinned in ControlDifferences)",
            [(nameof(Contract.RemoveKeys_a_null_entry_does_not_stop_the_others), MicrosoftRedis)] = "ArgumentNullException for the null entry (pinned in ControlDifferences)",
            // Microsoft hands the deserializer's exception to the caller instead of the data; CacheGen returns the value uncached.
            [(nameof(Contract.RoundTrip_a_value_that_cannot_be_read_back_still_reaches_the_caller), Microsoft)] = "the deserializer's exception reaches the caller (pinned in ControlDifferences)",
            [(nameof(Contract.RoundTrip_a_value_that_cannot_be_read_back_still_reaches_the_caller), MicrosoftRedis)] = "the deserializer's exception reaches the caller (pinned in ControlDifferences)",
            // A new Microsoft instance races its own load of the "*" time: most runs, not all, it reads the old value.
            // Nondeterministic, so nothing can pin it; CacheGen's clear epoch lives in Redis and every instance reads it.
            [(nameof(Contract.RemoveByTag_star_is_seen_by_an_instance_reading_the_distributed_cache), MicrosoftRedis)] = "another instance usually still reads the old value",
            // Without CacheGen's IMethodCache nothing tells whether another write overlapped this one, so generated code
            // evicts rather than stores: the value is right, but the next read asks the source once.
            [(nameof(GeneratedContract.UpdatesCache_the_next_read_returns_the_written_value_without_asking_the_source), Microsoft)] = "a write-through evicts instead of storing (pinned in ControlDifferences)",
            [(nameof(GeneratedContract.UpdatesCache_the_next_read_returns_the_written_value_without_asking_the_source), MicrosoftRedis)] = "a write-through evicts instead of storing (pinned in ControlDifferences)",
        };

    /// <summary>Every implementation of <paramref name="test"/>, except the control where it differs.</summary>
    public static TheoryData<string> All(string test) => Of(test, Implementation.All);

    /// <summary>The implementations with a shared second tier.</summary>
    public static TheoryData<string> Distributed(string test) => Of(test, Implementation.All.Where(i => i.Distributed));

    /// <summary>The implementations without a second tier.</summary>
    public static TheoryData<string> InProcess(string test) => Of(test, Implementation.All.Where(i => !i.Distributed));

    /// <summary>The control's rows of <paramref name="test"/> that <see cref="Differences"/> leaves out.</summary>
    public static TheoryData<string> ControlDiffers(string test)
    {
        var data = new TheoryData<string>();
        foreach (Implementation implementation in Implementation.All.Where(i => !i.IsCacheGen && Differences.ContainsKey((test, i.Name))))
            data.Add(implementation.Name);
        return data;
    }

    private static TheoryData<string> Of(string test, IEnumerable<Implementation> implementations)
    {
        var data = new TheoryData<string>();
        foreach (Implementation implementation in implementations.Where(i => !Differences.ContainsKey((test, i.Name))))
            data.Add(implementation.Name);
        return data;
    }
}
