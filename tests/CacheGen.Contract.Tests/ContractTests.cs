using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Time.Testing;

namespace CacheGen.Contract.Tests;

/// <summary>
/// HybridCache's documented promises (the XML docs of HybridCache, HybridCacheEntryOptions and HybridCacheEntryFlags,
/// and the HybridCache article they point to), each a theory over every implementation in the same run: Microsoft's
/// HybridCache in-process and over Redis (the control) and CacheGen.Redis in-process and over Redis. Each test asserts
/// what the documentation says, not what any one implementation does.
/// </summary>
[Collection(ContractCollection.Name)]
public sealed class Contract(ContractRedis redis)
{
    /// <summary>The bound for anything that is eventual (a waiter to finish, an entry to expire); never a speed claim.</summary>
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    private static HybridCacheEntryOptions With(HybridCacheEntryFlags flags) => new() { Flags = flags };

    private CacheSet Caches(string implementation, TimeProvider? time = null, TimeSpan? defaultExpiration = null) =>
        new(Implementation.Named(implementation), redis, time, defaultExpiration);

    private static FakeTimeProvider NewYear() =>
        new(DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));

    private static Func<CancellationToken, ValueTask<T>> Fails<T>() => _ => throw new Xunit.Sdk.XunitException("the data source was called");

    // ---- GetOrCreateAsync: "the data, either from cache or the underlying data service" ----

    [Theory]
    [MemberData(nameof(Cases.All), nameof(ReadThrough_runs_the_factory_once_then_serves_from_cache), MemberType = typeof(Cases))]
    public async Task ReadThrough_runs_the_factory_once_then_serves_from_cache(string implementation)
    {
        await using CacheSet caches = Caches(implementation);
        string key = Keys.Unique();
        var source = new Source<string>(n => "value " + n);

        string first = await caches.First.GetOrCreateAsync(key, (Func<CancellationToken, ValueTask<string>>)source);
        string second = await caches.First.GetOrCreateAsync(key, (Func<CancellationToken, ValueTask<string>>)source);

        Assert.Equal("value 1", first);
        Assert.Equal("value 1", second);
        Assert.Equal(1, source.Calls);
    }

    [Theory]
    [MemberData(nameof(Cases.Distributed), nameof(ReadThrough_another_instance_reads_the_distributed_entry), MemberType = typeof(Cases))]
    public async Task ReadThrough_another_instance_reads_the_distributed_entry(string implementation)
    {
        await using CacheSet caches = Caches(implementation);
        string key = Keys.Unique();
        await caches.First.GetOrCreateAsync(key, _ => ValueTask.FromResult("from the first"));
        await UntilSecondTierHas(caches, key, "from the first");

        string read = await caches.Reader.GetOrCreateAsync(key, Fails<string>());

        Assert.Equal("from the first", read);
    }

    [Theory]
    [MemberData(nameof(Cases.All), nameof(ReadThrough_state_overload_passes_the_state_and_shares_the_entry), MemberType = typeof(Cases))]
    public async Task ReadThrough_state_overload_passes_the_state_and_shares_the_entry(string implementation)
    {
        await using CacheSet caches = Caches(implementation);
        string key = Keys.Unique();

        int computed = await caches.First.GetOrCreateAsync(key, 21, (state, _) => ValueTask.FromResult(state * 2));
        int bySpan = await caches.First.GetOrCreateAsync(key.AsSpan(), 0, (_, _) => ValueTask.FromResult(-1));
        int byInterpolation = await caches.First.GetOrCreateAsync($"{key}", _ => ValueTask.FromResult(-1));

        Assert.Equal(42, computed);
        Assert.Equal(42, bySpan);
        Assert.Equal(42, byInterpolation);
    }

    // ---- Stampede protection: "only one concurrent caller for a given key calls the factory" ----

    [Theory]
    [MemberData(nameof(Cases.All), nameof(Stampede_concurrent_callers_of_one_key_run_the_factory_once), MemberType = typeof(Cases))]
    public async Task Stampede_concurrent_callers_of_one_key_run_the_factory_once(string implementation)
    {
        await using CacheSet caches = Caches(implementation);
        string key = Keys.Unique();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int calls = 0;
        async ValueTask<string> Factory(CancellationToken _)
        {
            Interlocked.Increment(ref calls);
            entered.TrySetResult();
            await release.Task;
            return "shared";
        }

        Task<string>[] callers = Enumerable.Range(0, 8)
            .Select(_ => Task.Run(() => caches.First.GetOrCreateAsync(key, Factory).AsTask()))
            .ToArray();
        await entered.Task.WaitAsync(Bound);
        await Task.Delay(200); // lets the other callers arrive while the factory is running
        release.SetResult();
        string[] values = await Task.WhenAll(callers).WaitAsync(Bound);

        Assert.All(values, v => Assert.Equal("shared", v));
        Assert.Equal(1, calls);
    }

    [Theory]
    [MemberData(nameof(Cases.All), nameof(FactoryException_reaches_every_waiting_caller_and_nothing_is_cached), MemberType = typeof(Cases))]
    public async Task FactoryException_reaches_every_waiting_caller_and_nothing_is_cached(string implementation)
    {
        await using CacheSet caches = Caches(implementation);
        string key = Keys.Unique();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        async ValueTask<string> Failing(CancellationToken _)
        {
            entered.TrySetResult();
            await release.Task;
            throw new InvalidOperationException("the source failed");
        }

        Task<string>[] callers = Enumerable.Range(0, 5)
            .Select(_ => Task.Run(() => caches.First.GetOrCreateAsync(key, Failing).AsTask()))
            .ToArray();
        await entered.Task.WaitAsync(Bound);
        await Task.Delay(200);
        release.SetResult();

        foreach (Task<string> caller in callers)
        {
            var error = await Assert.ThrowsAsync<InvalidOperationException>(() => caller.WaitAsync(Bound));
            Assert.Equal("the source failed", error.Message);
        }
        var source = new Source<string>(n => "recovered " + n);
        Assert.Equal("recovered 1", await caches.First.GetOrCreateAsync(key, (Func<CancellationToken, ValueTask<string>>)source));
        Assert.Equal(1, source.Calls);
    }

    // ---- Cancellation: "the CancellationToken ... represents the combined cancellation of all concurrent callers" ----

    [Theory]
    [MemberData(nameof(Cases.All), nameof(Cancellation_a_joiner_that_cancels_does_not_fail_the_first_caller), MemberType = typeof(Cases))]
    public async Task Cancellation_a_joiner_that_cancels_does_not_fail_the_first_caller(string implementation)
    {
        await using CacheSet caches = Caches(implementation);
        string key = Keys.Unique();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        async ValueTask<string> Factory(CancellationToken token)
        {
            entered.TrySetResult();
            await release.Task.WaitAsync(token);
            return "value";
        }

        Task<string> first = caches.First.GetOrCreateAsync(key, Factory).AsTask();
        await entered.Task.WaitAsync(Bound);
        using var joinerLeaves = new CancellationTokenSource();
        Task<string> joiner = caches.First.GetOrCreateAsync(key, Factory, cancellationToken: joinerLeaves.Token).AsTask();
        await joinerLeaves.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => joiner.WaitAsync(Bound));
        release.SetResult();
        Assert.Equal("value", await first.WaitAsync(Bound));
    }

    [Theory]
    [MemberData(nameof(Cases.All), nameof(Cancellation_the_first_caller_leaving_does_not_fail_a_joiner), MemberType = typeof(Cases))]
    public async Task Cancellation_the_first_caller_leaving_does_not_fail_a_joiner(string implementation)
    {
        await using CacheSet caches = Caches(implementation);
        string key = Keys.Unique();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int calls = 0;
        async ValueTask<string> Factory(CancellationToken token)
        {
            int call = Interlocked.Increment(ref calls);
            entered.TrySetResult();
            // The factory observes its token, as a database call would.
            await release.Task.WaitAsync(token);
            return "value " + call;
        }

        using var firstLeaves = new CancellationTokenSource();
        Task<string> first = caches.First.GetOrCreateAsync(key, Factory, cancellationToken: firstLeaves.Token).AsTask();
        await entered.Task.WaitAsync(Bound);
        Task<string> joiner = caches.First.GetOrCreateAsync(key, Factory).AsTask();
        await Task.Delay(100); // the joiner is waiting on the running factory
        await firstLeaves.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first.WaitAsync(Bound));
        release.SetResult();
        string value = await joiner.WaitAsync(Bound);
        Assert.StartsWith("value ", value);
    }

    [Theory]
    [MemberData(nameof(Cases.All), nameof(Cancellation_when_every_caller_leaves_the_factory_token_is_cancelled), MemberType = typeof(Cases))]
    public async Task Cancellation_when_every_caller_leaves_the_factory_token_is_cancelled(string implementation)
    {
        await using CacheSet caches = Caches(implementation);
        string key = Keys.Unique();
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var factoryCancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        async ValueTask<string> Factory(CancellationToken token)
        {
            entered.TrySetResult();
            try
            {
                await Task.Delay(Timeout.Infinite, token);
            }
            finally
            {
                if (token.IsCancellationRequested)
                    factoryCancelled.TrySetResult();
            }
            return "never";
        }

        using var a = new CancellationTokenSource();
        using var b = new CancellationTokenSource();
        Task<string> first = caches.First.GetOrCreateAsync(key, Factory, cancellationToken: a.Token).AsTask();
        await entered.Task.WaitAsync(Bound);
        Task<string> second = caches.First.GetOrCreateAsync(key, Factory, cancellationToken: b.Token).AsTask();
        await a.CancelAsync();
        await b.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first.WaitAsync(Bound));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => second.WaitAsync(Bound));
        await factoryCancelled.Task.WaitAsync(Bound);
        // Nothing was cached: the next caller runs the factory.
        Assert.Equal("fresh", await caches.First.GetOrCreateAsync(key, _ => ValueTask.FromResult("fresh")));
    }

    [Theory]
    [MemberData(nameof(Cases.All), nameof(Cancellation_a_caller_whose_token_is_already_cancelled_gets_OperationCanceledException), MemberType = typeof(Cases))]
    public async Task Cancellation_a_caller_whose_token_is_already_cancelled_gets_OperationCanceledException(string implementation)
    {
        await using CacheSet caches = Caches(implementation);
        string key = Keys.Unique();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            caches.First.GetOrCreateAsync(key, _ => ValueTask.FromResult("value"), cancellationToken: new CancellationToken(canceled: true)).AsTask());
    }

    // ---- SetAsync: "sets or overwrites the value associated with the key" ----

    [Theory]
    [MemberData(nameof(Cases.All), nameof(Set_then_get_returns_the_value_without_the_factory), MemberType = typeof(Cases))]
    public async Task Set_then_get_returns_the_value_without_the_factory(string implementation)
    {
        await using CacheSet caches = Caches(implementation);
        string key = Keys.Unique();

        await caches.First.SetAsync(key, "set");

        Assert.Equal("set", await caches.First.GetOrCreateAsync(key, Fails<string>()));
        Assert.Equal("set", await caches.Reader.GetOrCreateAsync(key, Fails<string>()));
    }

    [Theory]
    [MemberData(nameof(Cases.All), nameof(Set_overwrites_an_existing_entry), MemberType = typeof(Cases))]
    public async Task Set_overwrites_an_existing_entry(string implementation)
    {
        await using CacheSet caches = Caches(implementation);
        string key = Keys.Unique();
        await caches.First.GetOrCreateAsync(key, _ => ValueTask.FromResult("old"));
        await UntilSecondTierHas(caches, key, "old");

        await caches.First.SetAsync(key, "new");

        Assert.Equal("new", await caches.First.GetOrCreateAsync(key, Fails<string>()));
        Assert.Equal("new", await caches.Reader.GetOrCreateAsync(key, Fails<string>()));
    }

    [Theory]
    [MemberData(nameof(Cases.All), nameof(Set_with_DisableDistributedCacheWrite_stays_in_the_in_process_tier), MemberType = typeof(Cases))]
    public async Task Set_with_DisableDistributedCacheWrite_stays_in_the_in_process_tier(string implementation)
    {
        await using CacheSet caches = Caches(implementation);
        string key = Keys.Unique();

        await caches.First.SetAsync(key, "local", With(HybridCacheEntryFlags.DisableDistributedCacheWrite));

        Assert.Equal("local", await caches.First.GetOrCreateAsync(key, Fails<string>()));
        Assert.Equal("other", await caches.Fresh().GetOrCreateAsync(key, _ => ValueTask.FromResult("other")));
    }

    // ---- RemoveAsync: "removes the value associated with the key if it exists"; lists: "treat null as empty" ----

    [Theory]
    [MemberData(nameof(Cases.All), nameof(Remove_then_get_runs_the_factory), MemberType = typeof(Cases))]
    public async Task Remove_then_get_runs_the_factory(string implementation)
    {
        await using CacheSet caches = Caches(implementation);
        string key = Keys.Unique();
        await caches.First.GetOrCreateAsync(key, _ => ValueTask.FromResult("old"));
        await UntilSecondTierHas(caches, key, "old");

        await caches.First.RemoveAsync(key);

        // Gone from the second tier too: an instance without a local copy does not find it (and stores nothing here).
        Assert.Equal("elsewhere", await caches.Fresh().GetOrCreateAsync(key, _ => ValueTask.FromResult("elsewhere"),
            With(HybridCacheEntryFlags.DisableDistributedCacheWrite)));
        Assert.Equal("new", await caches.First.GetOrCreateAsync(key, _ => ValueTask.FromResult("new")));
    }

    [Theory]
    [MemberData(nameof(Cases.All), nameof(Remove_of_a_missing_key_does_nothing), MemberType = typeof(Cases))]
    public async Task Remove_of_a_missing_key_does_nothing(string implementation)
    {
        await using CacheSet caches = Caches(implementation);
        string other = Keys.Unique();
        await caches.First.SetAsync(other, "kept");

        await caches.First.RemoveAsync(Keys.Unique());

        Assert.Equal("kept", await caches.First.GetOrCreateAsync(other, Fails<string>()));
    }

    [Theory]
    [MemberData(nameof(Cases.All), nameof(RemoveKeys_removes_every_listed_key_and_no_other), MemberType = typeof(Cases))]
    public async Task RemoveKeys_removes_every_listed_key_and_no_other(string implementation)
    {
        await using CacheSet caches = Caches(implementation);
        string a = Keys.Unique(), b = Keys.Unique(), c = Keys.Unique();
        foreach (string key in new[] { a, b, c })
            await caches.First.SetAsync(key, "old " + key);

        await caches.First.RemoveAsync([a, b]);

        Assert.Equal("new", await caches.First.GetOrCreateAsync(a, _ => ValueTask.FromResult("new")));
        Assert.Equal("new", await caches.First.GetOrCreateAsync(b, _ => ValueTask.FromResult("new")));
        Assert.Equal("old " + c, await caches.First.GetOrCreateAsync(c, Fails<string>()));
    }

    [Theory]
    [MemberData(nameof(Cases.All), nameof(RemoveKeys_null_list_is_treated_as_empty), MemberType = typeof(Cases))]
    public async Task RemoveKeys_null_list_is_treated_as_empty(string implementation)
    {
        await using CacheSet caches = Caches(implementation);
        string key = Keys.Unique();
        await caches.First.SetAsync(key, "kept");

        await caches.First.RemoveAsync((IEnumerable<string>)null!);
        await caches.First.RemoveAsync(Array.Empty<string>());

        Assert.Equal("kept", await caches.First.GetOrCreateAsync(key, Fails<string>()));
    }

    [Theory]
    [MemberData(nameof(Cases.All), nameof(RemoveKeys_a_null_entry_does_not_stop_the_others), MemberType = typeof(Cases))]
    public async Task RemoveKeys_a_null_entry_does_not_stop_the_others(string implementation)
    {
        await using CacheSet caches = Caches(implementation);
        string a = Keys.Unique(), b = Keys.Unique();
        await caches.First.SetAsync(a, "old");
        await caches.First.SetAsync(b, "old");

        await caches.First.RemoveAsync([a, null!, b]);

        Assert.Equal("new", await caches.First.GetOrCreateAsync(a, _ => ValueTask.FromResult("new")));
        Assert.Equal("new", await caches.First.GetOrCreateAsync(b, _ => ValueTask.FromResult("new")));
    }

    [Theory]
    [MemberData(nameof(Cases.All), nameof(RemoveKeys_an_empty_entry_does_not_stop_the_others), MemberType = typeof(Cases))]
    public async Task RemoveKeys_an_empty_entry_does_not_stop_the_others(string implementation)
    {
        await using CacheSet caches = Caches(implementation);
        string a = Keys.Unique(), b = Keys.Unique();
        await caches.First.SetAsync(a, "old");
        await caches.First.SetAsync(b, "old");

        await caches.First.RemoveAsync([a, "", b]);

        Assert.Equal("new", await caches.First.GetOrCreateAsync(a, _ => ValueTask.FromResult("new")));
        Assert.Equal("new", await caches.First.GetOrCreateAsync(b, _ => ValueTask.FromResult("new")));
    }

    // The single-key overload's key is not nullable (only the list overloads say "treat null as empty"): every
    // implementation refuses null with ArgumentNullException before touching anything.
    [Theory]
    [MemberData(nameof(Cases.All), nameof(RemoveKey_null_is_refused_and_removes_nothing), MemberType = typeof(Cases))]
    public async Task RemoveKey_null_is_refused_and_removes_nothing(string implementation)
    {
        await using CacheSet caches = Caches(implementation);
        string key = Keys.Unique();
        await caches.First.SetAsync(key, "kept");

        await Assert.ThrowsAsync<ArgumentNullException>(() => caches.First.RemoveAsync((string)null!).AsTask());

        Assert.Equal("kept", await caches.First.GetOrCreateAsync(key, Fails<string>()));
    }

    // ---- RemoveByTagAsync: "removes all values associated with the specified tag(s)"; "*" is every entry ----

    [Theory]
    [MemberData(nameof(Cases.All), nameof(RemoveByTag_removes_the_tagged_entries_only), MemberType = typeof(Cases))]
    public async Task RemoveByTag_removes_the_tagged_entries_only(string implementation)
    {
        await using CacheSet caches = Caches(implementation);
        string red = Keys.Unique("red"), blue = Keys.Unique("blue");
        string onlyRed = Keys.Unique(), both = Keys.Unique(), onlyBlue = Keys.Unique(), none = Keys.Unique();
        await caches.First.GetOrCreateAsync(onlyRed, _ => ValueTask.FromResult("old"), tags: [red]);
        await caches.First.GetOrCreateAsync(both, _ => ValueTask.FromResult("old"), tags: [red, blue]);
        await caches.First.SetAsync(onlyBlue, "old", tags: [blue]);
        await caches.First.SetAsync(none, "old");

        await caches.First.RemoveByTagAsync(red);

        Assert.Equal("new", await caches.First.GetOrCreateAsync(onlyRed, _ => ValueTask.FromResult("new"), tags: [red]));
        Assert.Equal("new", await caches.First.GetOrCreateAsync(both, _ => ValueTask.FromResult("new"), tags: [red, blue]));
        Assert.Equal("old", await caches.First.GetOrCreateAsync(onlyBlue, Fails<string>(), tags: [blue]));
        Assert.Equal("old", await caches.First.GetOrCreateAsync(none, Fails<string>()));
    }

    [Theory]
    [MemberData(nameof(Cases.Distributed), nameof(RemoveByTag_is_seen_by_an_instance_reading_the_distributed_cache), MemberType = typeof(Cases))]
    public async Task RemoveByTag_is_seen_by_an_instance_reading_the_distributed_cache(string implementation)
    {
        await using CacheSet caches = Caches(implementation);
        string tag = Keys.Unique("tag"), key = Keys.Unique();
        await caches.First.GetOrCreateAsync(key, _ => ValueTask.FromResult("old"), tags: [tag]);
        await UntilSecondTierHas(caches, key, "old", [tag]);

        await caches.First.RemoveByTagAsync(tag);

        Assert.Equal("new", await caches.Reader.GetOrCreateAsync(key, _ => ValueTask.FromResult("new"), tags: [tag]));
    }

    [Theory]
    [MemberData(nameof(Cases.All), nameof(RemoveByTag_entries_made_after_the_eviction_are_cached_again), MemberType = typeof(Cases))]
    public async Task RemoveByTag_entries_made_after_the_eviction_are_cached_again(string implementation)
    {
        await using CacheSet caches = Caches(implementation);
        string tag = Keys.Unique("tag"), key = Keys.Unique();
        await caches.First.GetOrCreateAsync(key, _ => ValueTask.FromResult("old"), tags: [tag]);
        await caches.First.RemoveByTagAsync(tag);
        await Task.Delay(10); // a clock tick: an implementation may compare times

        Assert.Equal("new", await caches.First.GetOrCreateAsync(key, _ => ValueTask.FromResult("new"), tags: [tag]));
        Assert.Equal("new", await caches.First.GetOrCreateAsync(key, Fails<string>(), tags: [tag]));
    }

    [Theory]
    [MemberData(nameof(Cases.All), nameof(RemoveByTags_removes_the_entries_of_every_listed_tag), MemberType = typeof(Cases))]
    public async Task RemoveByTags_removes_the_entries_of_every_listed_tag(string implementation)
    {
        await using CacheSet caches = Caches(implementation);
        string red = Keys.Unique("red"), blue = Keys.Unique("blue"), green = Keys.Unique("green");
        string a = Keys.Unique(), b = Keys.Unique(), c = Keys.Unique();
        await caches.First.SetAsync(a, "old", tags: [red]);
        await caches.First.SetAsync(b, "old", tags: [blue]);
        await caches.First.SetAsync(c, "old", tags: [green]);

        await caches.First.RemoveByTagAsync([red, blue]);

        Assert.Equal("new", await caches.First.GetOrCreateAsync(a, _ => ValueTask.FromResult("new"), tags: [red]));
        Assert.Equal("new", await caches.First.GetOrCreateAsync(b, _ => ValueTask.FromResult("new"), tags: [blue]));
        Assert.Equal("old", await caches.First.GetOrCreateAsync(c, Fails<string>(), tags: [green]));
    }

    [Theory]
    [MemberData(nameof(Cases.All), nameof(RemoveByTags_null_list_is_treated_as_empty), MemberType = typeof(Cases))]
    public async Task RemoveByTags_null_list_is_treated_as_empty(string implementation)
    {
        await using CacheSet caches = Caches(implementation);
        string tag = Keys.Unique("tag"), key = Keys.Unique();
        await caches.First.SetAsync(key, "kept", tags: [tag]);

        await caches.First.RemoveByTagAsync((IEnumerable<string>)null!);
        await caches.First.RemoveByTagAsync(Array.Empty<string>());

        Assert.Equal("kept", await caches.First.GetOrCreateAsync(key, Fails<string>(), tags: [tag]));
    }

    [Theory]
    [MemberData(nameof(Cases.All), nameof(RemoveByTag_null_behaves_like_removing_nothing), MemberType = typeof(Cases))]
    public async Task RemoveByTag_null_behaves_like_removing_nothing(string implementation)
    {
        await using CacheSet caches = Caches(implementation);
        string tag = Keys.Unique("tag"), key = Keys.Unique();
        await caches.First.SetAsync(key, "kept", tags: [tag]);

        await caches.First.RemoveByTagAsync((string)null!);

        Assert.Equal("kept", await caches.First.GetOrCreateAsync(key, Fails<string>(), tags: [tag]));
    }

    [Theory]
    [MemberData(nameof(Cases.All), nameof(RemoveByTag_star_removes_every_entry_tagged_or_not), MemberType = typeof(Cases))]
    public async Task RemoveByTag_star_removes_every_entry_tagged_or_not(string implementation)
    {
        await using CacheSet caches = Caches(implementation);
        string tag = Keys.Unique("tag"), tagged = Keys.Unique(), untagged = Keys.Unique();
        await caches.First.GetOrCreateAsync(tagged, _ => ValueTask.FromResult("old"), tags: [tag]);
        await caches.First.GetOrCreateAsync(untagged, _ => ValueTask.FromResult("old"));

        await caches.First.RemoveByTagAsync("*");

        Assert.Equal("new", await caches.First.GetOrCreateAsync(tagged, _ => ValueTask.FromResult("new"), tags: [tag]));
        Assert.Equal("new", await caches.First.GetOrCreateAsync(untagged, _ => ValueTask.FromResult("new")));
    }

    [Theory]
    [MemberData(nameof(Cases.Distributed), nameof(RemoveByTag_star_is_seen_by_an_instance_reading_the_distributed_cache), MemberType = typeof(Cases))]
    public async Task RemoveByTag_star_is_seen_by_an_instance_reading_the_distributed_cache(string implementation)
    {
        await using CacheSet caches = Caches(implementation);
        string key = Keys.Unique();
        await caches.First.GetOrCreateAsync(key, _ => ValueTask.FromResult("old"));
        await UntilSecondTierHas(caches, key, "old");

        await caches.First.RemoveByTagAsync("*");

        Assert.Equal("new", await caches.Reader.GetOrCreateAsync(key, _ => ValueTask.FromResult("new")));
    }

    // ---- HybridCacheEntryFlags ----

    [Theory]
    [MemberData(nameof(Cases.All), nameof(Flags_DisableUnderlyingData_on_a_miss_returns_default_and_stores_nothing), MemberType = typeof(Cases))]
    public async Task Flags_DisableUnderlyingData_on_a_miss_returns_default_and_stores_nothing(string implementation)
    {
        await using CacheSet caches = Caches(implementation);
        string text = Keys.Unique(), number = Keys.Unique();
        HybridCacheEntryOptions cacheOnly = With(HybridCacheEntryFlags.DisableUnderlyingData);

        Assert.Null(await caches.First.GetOrCreateAsync(text, Fails<string?>(), cacheOnly));
        Assert.Equal(0, await caches.First.GetOrCreateAsync(number, Fails<int>(), cacheOnly));
        Assert.Equal("filled", await caches.First.GetOrCreateAsync(text, _ => ValueTask.FromResult<string?>("filled")));
    }

    [Theory]
    [MemberData(nameof(Cases.All), nameof(Flags_DisableUnderlyingData_on_a_hit_returns_the_cached_value), MemberType = typeof(Cases))]
    public async Task Flags_DisableUnderlyingData_on_a_hit_returns_the_cached_value(string implementation)
    {
        await using CacheSet caches = Caches(implementation);
        string key = Keys.Unique();
        await caches.First.SetAsync(key, "cached");

        Assert.Equal("cached", await caches.First.GetOrCreateAsync(key, Fails<string>(), With(HybridCacheEntryFlags.DisableUnderlyingData)));
        Assert.Equal("cached", await caches.Reader.GetOrCreateAsync(key, Fails<string>(), With(HybridCacheEntryFlags.DisableUnderlyingData)));
    }

    [Theory]
    [MemberData(nameof(Cases.All), nameof(Flags_DisableLocalCacheRead_skips_the_in_process_copy), MemberType = typeof(Cases))]
    public async Task Flags_DisableLocalCacheRead_skips_the_in_process_copy(string implementation)
    {
        await using CacheSet caches = Caches(implementation);
        string key = Keys.Unique();
        await caches.First.GetOrCreateAsync(key, _ => ValueTask.FromResult("first"));
        await UntilSecondTierHas(caches, key, "first");

        string read = await caches.First.GetOrCreateAsync(key, _ => ValueTask.FromResult("second"), With(HybridCacheEntryFlags.DisableLocalCacheRead));

        // With a second tier the value comes from there; without one the only source left is the factory.
        Assert.Equal(Implementation.Named(implementation).Distributed ? "first" : "second", read);
    }

    [Theory]
    [MemberData(nameof(Cases.All), nameof(Flags_DisableLocalCacheRead_and_DisableDistributedCacheRead_run_the_factory), MemberType = typeof(Cases))]
    public async Task Flags_DisableLocalCacheRead_and_DisableDistributedCacheRead_run_the_factory(string implementation)
    {
        await using CacheSet caches = Caches(implementation);
        string key = Keys.Unique();
        await caches.First.GetOrCreateAsync(key, _ => ValueTask.FromResult("first"));

        string read = await caches.First.GetOrCreateAsync(key, _ => ValueTask.FromResult("second"),
            With(HybridCacheEntryFlags.DisableLocalCacheRead | HybridCacheEntryFlags.DisableDistributedCacheRead));

        Assert.Equal("second", read);
    }

    [Theory]
    [MemberData(nameof(Cases.All), nameof(Flags_DisableLocalCacheWrite_keeps_the_value_out_of_the_in_process_tier), MemberType = typeof(Cases))]
    public async Task Flags_DisableLocalCacheWrite_keeps_the_value_out_of_the_in_process_tier(string implementation)
    {
        await using CacheSet caches = Caches(implementation);
        string key = Keys.Unique();
        await caches.First.GetOrCreateAsync(key, _ => ValueTask.FromResult("first"), With(HybridCacheEntryFlags.DisableLocalCacheWrite));
        await UntilSecondTierHas(caches, key, "first");

        // Reading the in-process tier only: nothing there, so the factory runs.
        string local = await caches.First.GetOrCreateAsync(key, _ => ValueTask.FromResult("second"),
            With(HybridCacheEntryFlags.DisableDistributedCache | HybridCacheEntryFlags.DisableLocalCacheWrite));
        Assert.Equal("second", local);
        if (Implementation.Named(implementation).Distributed)
            Assert.Equal("first", await caches.Reader.GetOrCreateAsync(key, Fails<string>()));
    }

    [Theory]
    [MemberData(nameof(Cases.All), nameof(Flags_DisableDistributedCacheWrite_keeps_the_value_out_of_the_second_tier), MemberType = typeof(Cases))]
    public async Task Flags_DisableDistributedCacheWrite_keeps_the_value_out_of_the_second_tier(string implementation)
    {
        await using CacheSet caches = Caches(implementation);
        string key = Keys.Unique();
        await caches.First.GetOrCreateAsync(key, _ => ValueTask.FromResult("first"), With(HybridCacheEntryFlags.DisableDistributedCacheWrite));

        Assert.Equal("first", await caches.First.GetOrCreateAsync(key, Fails<string>()));
        Assert.Equal("other", await caches.Fresh().GetOrCreateAsync(key, _ => ValueTask.FromResult("other")));
    }

    [Theory]
    [MemberData(nameof(Cases.All), nameof(Flags_DisableDistributedCacheRead_runs_the_factory_on_an_instance_without_a_local_copy), MemberType = typeof(Cases))]
    public async Task Flags_DisableDistributedCacheRead_runs_the_factory_on_an_instance_without_a_local_copy(string implementation)
    {
        await using CacheSet caches = Caches(implementation);
        string key = Keys.Unique();
        await caches.First.GetOrCreateAsync(key, _ => ValueTask.FromResult("first"));

        string read = await caches.Fresh().GetOrCreateAsync(key, _ => ValueTask.FromResult("second"), With(HybridCacheEntryFlags.DisableDistributedCacheRead));

        Assert.Equal("second", read);
    }

    // ---- Expiration and LocalCacheExpiration ----

    [Theory]
    [MemberData(nameof(Cases.InProcess), nameof(Expiration_an_entry_lives_for_its_expiration_fake_clock), MemberType = typeof(Cases))]
    public async Task Expiration_an_entry_lives_for_its_expiration_fake_clock(string implementation)
    {
        FakeTimeProvider time = NewYear();
        await using CacheSet caches = Caches(implementation, time);
        string key = Keys.Unique();
        var options = new HybridCacheEntryOptions { Expiration = TimeSpan.FromMinutes(1) };
        var source = new Source<string>(n => "value " + n);
        var factory = (Func<CancellationToken, ValueTask<string>>)source;

        await caches.First.GetOrCreateAsync(key, factory, options);
        time.Advance(TimeSpan.FromSeconds(59));
        Assert.Equal("value 1", await caches.First.GetOrCreateAsync(key, factory, options));
        time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal("value 2", await caches.First.GetOrCreateAsync(key, factory, options));
    }

    [Theory]
    [MemberData(nameof(Cases.InProcess), nameof(Expiration_a_set_entry_lives_for_its_expiration_fake_clock), MemberType = typeof(Cases))]
    public async Task Expiration_a_set_entry_lives_for_its_expiration_fake_clock(string implementation)
    {
        FakeTimeProvider time = NewYear();
        await using CacheSet caches = Caches(implementation, time);
        string key = Keys.Unique();
        var options = new HybridCacheEntryOptions { Expiration = TimeSpan.FromMinutes(1) };

        await caches.First.SetAsync(key, "set", options);
        time.Advance(TimeSpan.FromSeconds(59));
        Assert.Equal("set", await caches.First.GetOrCreateAsync(key, Fails<string>(), options));
        time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal("refilled", await caches.First.GetOrCreateAsync(key, _ => ValueTask.FromResult("refilled"), options));
    }

    [Theory]
    [MemberData(nameof(Cases.InProcess), nameof(LocalCacheExpiration_longer_than_the_expiration_is_capped_by_it_fake_clock), MemberType = typeof(Cases))]
    public async Task LocalCacheExpiration_longer_than_the_expiration_is_capped_by_it_fake_clock(string implementation)
    {
        FakeTimeProvider time = NewYear();
        await using CacheSet caches = Caches(implementation, time);
        string key = Keys.Unique();
        var options = new HybridCacheEntryOptions { Expiration = TimeSpan.FromMinutes(1), LocalCacheExpiration = TimeSpan.FromHours(1) };
        var source = new Source<string>(n => "value " + n);
        var factory = (Func<CancellationToken, ValueTask<string>>)source;

        await caches.First.GetOrCreateAsync(key, factory, options);
        time.Advance(TimeSpan.FromSeconds(61));

        Assert.Equal("value 2", await caches.First.GetOrCreateAsync(key, factory, options));
    }

    [Theory]
    [MemberData(nameof(Cases.InProcess), nameof(Options_a_per_call_expiration_overrides_the_global_default_fake_clock), MemberType = typeof(Cases))]
    public async Task Options_a_per_call_expiration_overrides_the_global_default_fake_clock(string implementation)
    {
        FakeTimeProvider time = NewYear();
        await using CacheSet caches = Caches(implementation, time, defaultExpiration: TimeSpan.FromMinutes(10));
        string key = Keys.Unique();
        var options = new HybridCacheEntryOptions { Expiration = TimeSpan.FromMinutes(1), LocalCacheExpiration = TimeSpan.FromMinutes(1) };
        var source = new Source<string>(n => "value " + n);
        var factory = (Func<CancellationToken, ValueTask<string>>)source;

        await caches.First.GetOrCreateAsync(key, factory, options);
        time.Advance(TimeSpan.FromMinutes(2));

        Assert.Equal("value 2", await caches.First.GetOrCreateAsync(key, factory, options));
    }

    [Theory]
    [MemberData(nameof(Cases.InProcess), nameof(Options_a_per_call_null_inherits_the_global_default_fake_clock), MemberType = typeof(Cases))]
    public async Task Options_a_per_call_null_inherits_the_global_default_fake_clock(string implementation)
    {
        FakeTimeProvider time = NewYear();
        await using CacheSet caches = Caches(implementation, time, defaultExpiration: TimeSpan.FromMinutes(1));
        string key = Keys.Unique();
        var flagsOnly = new HybridCacheEntryOptions { Flags = HybridCacheEntryFlags.DisableCompression };
        var source = new Source<string>(n => "value " + n);
        var factory = (Func<CancellationToken, ValueTask<string>>)source;

        await caches.First.GetOrCreateAsync(key, factory, flagsOnly);
        time.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal("value 1", await caches.First.GetOrCreateAsync(key, factory, flagsOnly));
        time.Advance(TimeSpan.FromSeconds(31));
        Assert.Equal("value 2", await caches.First.GetOrCreateAsync(key, factory, flagsOnly));
    }

    [Theory]
    [MemberData(nameof(Cases.Distributed), nameof(Expiration_an_entry_expires_from_both_tiers), MemberType = typeof(Cases))]
    public async Task Expiration_an_entry_expires_from_both_tiers(string implementation)
    {
        await using CacheSet caches = Caches(implementation);
        string key = Keys.Unique();
        var options = new HybridCacheEntryOptions { Expiration = TimeSpan.FromSeconds(1), LocalCacheExpiration = TimeSpan.FromHours(1) };
        var source = new Source<string>(n => "value " + n);
        await caches.First.GetOrCreateAsync(key, (Func<CancellationToken, ValueTask<string>>)source, options);

        await Eventually(async () => await caches.First.GetOrCreateAsync(key, (Func<CancellationToken, ValueTask<string>>)source, options) != "value 1");
    }

    [Theory]
    [MemberData(nameof(Cases.Distributed), nameof(LocalCacheExpiration_of_a_value_read_from_the_second_tier_ends_with_its_remaining_lifetime), MemberType = typeof(Cases))]
    public async Task LocalCacheExpiration_of_a_value_read_from_the_second_tier_ends_with_its_remaining_lifetime(string implementation)
    {
        await using CacheSet caches = Caches(implementation);
        string key = Keys.Unique();
        // Written with a 5 s lifetime (time enough to be read back on a busy machine); read on another instance whose own
        // options would keep it for an hour.
        await caches.First.GetOrCreateAsync(key, _ => ValueTask.FromResult("short-lived"), new HybridCacheEntryOptions { Expiration = TimeSpan.FromSeconds(5) });
        await UntilSecondTierHas(caches, key, "short-lived");
        var generous = new HybridCacheEntryOptions { Expiration = TimeSpan.FromHours(1), LocalCacheExpiration = TimeSpan.FromHours(1) };
        var source = new Source<string>(n => "refreshed " + n);
        Assert.Equal("short-lived", await caches.Reader.GetOrCreateAsync(key, (Func<CancellationToken, ValueTask<string>>)source, generous));

        await Eventually(async () => await caches.Reader.GetOrCreateAsync(key, (Func<CancellationToken, ValueTask<string>>)source, generous) != "short-lived");
    }

    /// <summary>
    /// Waits (bounded) until the second tier holds <paramref name="expected"/> under <paramref name="key"/>; nothing for
    /// in-process implementations. Microsoft's HybridCache writes Redis in the background after GetOrCreateAsync has
    /// returned, and the docs promise nothing about when, so a test that needs the entry there waits for it. It looks
    /// through an instance of its own that neither runs a factory nor keeps a copy.
    /// </summary>
    private static async Task UntilSecondTierHas(CacheSet caches, string key, string expected, string[]? tags = null)
    {
        if (!caches.Distributed)
            return;
        HybridCache peek = caches.Fresh();
        HybridCacheEntryOptions lookOnly = With(HybridCacheEntryFlags.DisableUnderlyingData | HybridCacheEntryFlags.DisableLocalCache);
        await Eventually(async () => await peek.GetOrCreateAsync(key, Fails<string?>(), lookOnly, tags) == expected);
    }

    private static async Task Eventually(Func<Task<bool>> condition)
    {
        var deadline = System.Diagnostics.Stopwatch.StartNew();
        while (!await condition())
        {
            if (deadline.Elapsed > Bound)
                Assert.Fail($"not so within {Bound.TotalSeconds} s");
            await Task.Delay(100);
        }
    }

    // ---- Object reuse: "HybridCache preserves this behavior [each caller gets a separate instance] by default" ----

    [Theory]
    [MemberData(nameof(Cases.All), nameof(Reuse_hits_of_a_mutable_type_are_instances_of_their_own), MemberType = typeof(Cases))]
    public async Task Reuse_hits_of_a_mutable_type_are_instances_of_their_own(string implementation)
    {
        await using CacheSet caches = Caches(implementation);
        string key = Keys.Unique();
        Box created = await caches.First.GetOrCreateAsync(key, _ => ValueTask.FromResult(new Box { Value = 1 }));
        created.Value = 99;

        Box hit = await caches.First.GetOrCreateAsync(key, Fails<Box>());
        hit.Value = 98;
        Box again = await caches.First.GetOrCreateAsync(key, Fails<Box>());

        Assert.Equal(1, again.Value);
        Assert.NotSame(created, hit);
        Assert.NotSame(hit, again);
    }

    [Theory]
    [MemberData(nameof(Cases.All), nameof(Reuse_concurrent_callers_of_a_mutable_type_get_instances_of_their_own), MemberType = typeof(Cases))]
    public async Task Reuse_concurrent_callers_of_a_mutable_type_get_instances_of_their_own(string implementation)
    {
        await using CacheSet caches = Caches(implementation);
        string key = Keys.Unique();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        async ValueTask<Box> Factory(CancellationToken _)
        {
            entered.TrySetResult();
            await release.Task;
            return new Box { Value = 1 };
        }

        Task<Box>[] callers = Enumerable.Range(0, 4)
            .Select(_ => Task.Run(() => caches.First.GetOrCreateAsync(key, Factory).AsTask()))
            .ToArray();
        await entered.Task.WaitAsync(Bound);
        await Task.Delay(200);
        release.SetResult();
        Box[] boxes = await Task.WhenAll(callers).WaitAsync(Bound);

        Assert.All(boxes, b => Assert.Equal(1, b.Value));
        Assert.Equal(boxes.Length, boxes.Distinct(ReferenceEqualityComparer.Instance).Count());
    }

    // ---- Round trips: the value read back is the value the data source gave ----

    /// <summary>
    /// The value reads back equal, and from the cache: the factory gives the same data again, so equality alone would
    /// hold uncached too; the number of factory calls proves the hit. <paramref name="cached"/> false: the value is
    /// documented not to be cached, and every read must reach the factory.
    /// </summary>
    private async Task RoundTrip<T>(string implementation, Func<T> make, Action<T, T> equal, bool cached = true)
    {
        await using CacheSet caches = Caches(implementation);
        string key = Keys.Unique();
        int calls = 0;
        ValueTask<T> Make(CancellationToken _)
        {
            Interlocked.Increment(ref calls);
            return ValueTask.FromResult(make());
        }

        T first = await caches.First.GetOrCreateAsync(key, Make);
        if (cached)
            await BrieflyUntilSecondTierHolds(caches, key, make);
        // Read back on another instance (distributed) or through the in-process tier.
        T readBack = await caches.Reader.GetOrCreateAsync(key, Make, With(HybridCacheEntryFlags.DisableLocalCacheRead));
        T readAgain = await caches.Reader.GetOrCreateAsync(key, Make);

        equal(make(), first);
        equal(make(), readBack);
        equal(make(), readAgain);
        // Distributed: both reads hit the second tier, then the in-process one. In-process only: skipping the local
        // read leaves nothing to read (the factory runs), and the last read hits.
        int expected = !cached ? 3 : caches.Distributed ? 1 : 2;
        Assert.True(expected == calls, $"the factory ran {calls} times, not {expected}: {(cached ? "a read missed" : "a value that is not cached was served")}");
    }

    /// <summary>Waits (5 s at most) until a fresh instance finds the entry in the second tier: a miss answers before its write lands.</summary>
    private static async Task BrieflyUntilSecondTierHolds<T>(CacheSet caches, string key, Func<T> make)
    {
        if (!caches.Distributed)
            return;
        // Works for a cached null too: only a miss runs this factory, and it writes nowhere.
        HybridCacheEntryOptions peekOnly = With(HybridCacheEntryFlags.DisableLocalCache | HybridCacheEntryFlags.DisableDistributedCacheWrite);
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (waited.Elapsed < TimeSpan.FromSeconds(5))
        {
            bool missed = false;
            await caches.Fresh().GetOrCreateAsync(key, _ =>
            {
                missed = true;
                return ValueTask.FromResult(make());
            }, peekOnly);
            if (!missed)
                return;
            await Task.Delay(50);
        }
    }

    [Theory]
    [MemberData(nameof(Cases.All), nameof(RoundTrip_value_tuple), MemberType = typeof(Cases))]
    public Task RoundTrip_value_tuple(string implementation) =>
        RoundTrip(implementation, () => (1, 2), (expected, actual) => Assert.Equal(expected, actual));

    [Theory]
    [MemberData(nameof(Cases.All), nameof(RoundTrip_class_with_public_fields), MemberType = typeof(Cases))]
    public Task RoundTrip_class_with_public_fields(string implementation) =>
        RoundTrip(implementation, () => new FieldPoint { X = 7, Label = "seven" }, (expected, actual) =>
        {
            Assert.Equal(expected.X, actual.X);
            Assert.Equal(expected.Label, actual.Label);
        });

    [Theory]
    [MemberData(nameof(Cases.All), nameof(RoundTrip_record), MemberType = typeof(Cases))]
    public Task RoundTrip_record(string implementation) =>
        RoundTrip(implementation, () => new Person("Ada", 36), (expected, actual) => Assert.Equal(expected, actual));

    [Theory]
    [MemberData(nameof(Cases.All), nameof(RoundTrip_dictionary), MemberType = typeof(Cases))]
    public Task RoundTrip_dictionary(string implementation) =>
        RoundTrip(implementation, () => new Dictionary<string, int> { ["one"] = 1, ["Two"] = 2, [""] = 0 },
            (expected, actual) => Assert.Equal(expected, actual));

    [Theory]
    [MemberData(nameof(Cases.All), nameof(RoundTrip_null_from_the_factory), MemberType = typeof(Cases))]
    public Task RoundTrip_null_from_the_factory(string implementation) =>
        RoundTrip<Person?>(implementation, () => null, (_, actual) => Assert.Null(actual));

    [Theory]
    [MemberData(nameof(Cases.All), nameof(RoundTrip_a_value_that_cannot_be_read_back_still_reaches_the_caller), MemberType = typeof(Cases))]
    public Task RoundTrip_a_value_that_cannot_be_read_back_still_reaches_the_caller(string implementation) =>
        RoundTrip(implementation, () => new OneWay(7), (expected, actual) => Assert.Equal(expected.Value, actual.Value), cached: false);
}
