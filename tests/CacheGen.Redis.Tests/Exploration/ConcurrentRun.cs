using CacheGen.Infrastructure;
using CacheGen.Redis.Tests.Infrastructure;
using CsCheck;
using Microsoft.Extensions.Caching.Hybrid;

namespace CacheGen.Redis.Tests.Exploration;

/// <summary>
/// One operation of a worker in a concurrent run. Get: a data call that yields <see cref="Work"/> times, and a caller
/// that gives up after <see cref="GiveUpAfter"/> yields (-1: never); the data call fails once its caller gave up and
/// its scope was disposed if it <see cref="NeedsScope"/>. Remove, Set and RemoveTag (tag <see cref="Key"/>: t0, t1, any,
/// or 3 for "*", everything) as in <see cref="Step"/>.
/// Update: a write-through that yields <see cref="Work"/> times before its write commits and <see cref="AfterCommit"/>
/// times after, before it completes.
/// </summary>
public sealed record Operation(StepKind Kind, int Key, int Work = 0, int GiveUpAfter = -1, bool NeedsScope = false, int AfterCommit = 0, bool Fails = false,
    bool AfterExpiry = false)
{
    public override string ToString() => Kind switch
    {
        StepKind.Get => $"Get(k{Key}, work {Work}{(GiveUpAfter >= 0 ? $", gives up after {GiveUpAfter}" : "")}{(NeedsScope ? ", needs its scope" : "")}" +
            $"{(Fails ? ", its source fails" : "")}{(AfterExpiry ? ", after the entry expired" : "")})",
        StepKind.Remove => $"Remove(k{Key})",
        StepKind.Set => $"Set(k{Key})",
        StepKind.Update => $"Update(k{Key}, commits after {Work}, completes {AfterCommit} later)",
        _ => $"RemoveTag({ConcurrentRun.TagOf(Key)})",
    };
}

/// <summary>
/// Several workers run operations on one instance at the same time, with nothing held: the interleavings are the
/// thread pool's. The same <see cref="FillHistory"/> model judges the outcome; a run is not reproducible by its seed,
/// but whatever it reports is a real history.
/// </summary>
internal sealed class ConcurrentRun
{
    private static readonly Gen<Operation> Operations = Gen.Frequency<Operation>(
        (6, Gen.Select(Gen.Int[0, Scenario.Keys - 1], Gen.Int[0, 3], Gen.Int[-3, 3], Gen.Bool, Gen.Int[0, 3], Gen.Int[0, 3],
            (key, work, giveUp, scope, fails, late) => new Operation(StepKind.Get, key, work, Math.Max(giveUp, -1), scope, Fails: fails == 0,
                AfterExpiry: late < 2))),
        (2, Gen.Int[0, Scenario.Keys - 1].Select(k => new Operation(StepKind.Remove, k))),
        (2, Gen.Int[0, Scenario.Keys - 1].Select(k => new Operation(StepKind.Set, k))),
        (1, Gen.Int[0, 3].Select(t => new Operation(StepKind.RemoveTag, t))),
        (2, Gen.Select(Gen.Int[0, Scenario.Keys - 1], Gen.Int[0, 3], Gen.Int[0, 3],
            (key, before, after) => new Operation(StepKind.Update, key, before, AfterCommit: after))));

    // The runs' cached method, for reads and write-throughs alike: entries expire within a run, and a read whose source
    // fails may get an expired value (fail-safe), which must still never be one an eviction that returned had dropped.
    private static readonly TimeSpan Lifetime = TimeSpan.FromMilliseconds(2);

    private static readonly CachedMethod Plain = new("Exploration.Get", "x", new HybridCacheEntryOptions { Expiration = Lifetime })
    {
        StaleFor = TimeSpan.FromMinutes(1),
    };

    // The same, refreshed ahead halfway through each entry's lifetime: background refreshes (on the state of the read
    // that started them) race the workers' reads, writes and evictions.
    private static readonly CachedMethod RefreshedAhead = new("Exploration.GetRefreshedAhead", "x", new HybridCacheEntryOptions { Expiration = Lifetime })
    {
        StaleFor = TimeSpan.FromMinutes(1),
        RefreshAheadPercent = 50,
    };

    private readonly CachedMethod _method;

    /// <summary>Three workers with up to 12 operations each.</summary>
    public static readonly Gen<Operation[][]> Workloads = Operations.Array[1, 12].Array[3];

    public static string Print(Operation[][] workers) =>
        string.Join(" || ", workers.Select(w => "[" + string.Join(", ", w.Select(o => o.ToString())) + "]"));

    private readonly HybridCache _cache;
    private readonly FillHistory _history = new();
    private readonly string _prefix = $"y{Guid.NewGuid():N}:";
    private int _named;

    public ConcurrentRun(CacheInstance instance, bool refreshAhead = false)
    {
        _cache = instance.Cache;
        _method = refreshAhead ? RefreshedAhead : Plain;
    }

    /// <summary>The tag a RemoveTag operation names: t0, t1, any, or "*" (every entry: in-process, and in Redis through the clear epoch).</summary>
    public static string TagOf(int index) => index < Scenario.TagNames.Length ? Scenario.TagNames[index] : "*";

    private string KeyName(int key) => $"{_prefix}k{key}";

    private string[] TagsOf(int key) => [.. Scenario.TagsOf(key).Select(t => _prefix + t)];

    private string[] TagsOf(string keyName) => TagsOf(keyName[^1] - '0');

    public async Task<List<string>> RunAsync(Operation[][] workers)
    {
        await Task.WhenAll(workers.Select(w => Task.Run(() => WorkAsync(w)))).WaitAsync(TimeSpan.FromSeconds(20)).ConfigureAwait(false);
        for (int key = 0; key < Scenario.Keys; key++)
            await GetAsync(new Operation(StepKind.Get, key), "final" + key).ConfigureAwait(false);
        return [.. _history.Violations(TagsOf).Select(v => v.Replace(_prefix, ""))];
    }

    /// <summary>Removes the run's keys; then nothing may be left in flight or counted in-process (when the instance is the run's alone).</summary>
    public async Task<List<string>> CleanUpAsync(RedisHybridCache.TestHooks hooks)
    {
        // A refresh the last reads started ends on its own (stored or not); the keys are removed after it.
        await Eventually.Until(() => hooks.RefreshCount == 0, "the run's refreshes to end").ConfigureAwait(false);
        for (int key = 0; key < Scenario.Keys; key++)
            await _cache.RemoveAsync(KeyName(key)).ConfigureAwait(false);
        var problems = new List<string>();
        if (hooks.FlightCount != 0)
            problems.Add($"{hooks.FlightCount} fill(s) still registered");
        if (hooks.LocalCount != 0 || hooks.LocalAccountedCount != 0 || hooks.LocalBytes != 0)
            problems.Add($"in-process cache not empty: {hooks.LocalCount} entries, counted {hooks.LocalAccountedCount} and {hooks.LocalBytes} bytes");
        return problems;
    }

    private async Task WorkAsync(Operation[] operations)
    {
        foreach (Operation operation in operations)
        {
            string key = KeyName(operation.Key);
            switch (operation.Kind)
            {
                case StepKind.Get:
                    await GetAsync(operation, "c" + Interlocked.Increment(ref _named)).ConfigureAwait(false);
                    break;
                case StepKind.Remove:
                    await _history.EvictAsync($"RemoveAsync({key})", key, null, () => _cache.RemoveAsync(key).AsTask()).ConfigureAwait(false);
                    break;
                case StepKind.Set:
                    string[] tags = TagsOf(operation.Key);
                    await _history.SetAsync(key, value => _cache.SetAsync(key, value, tags: tags).AsTask()).ConfigureAwait(false);
                    break;
                case StepKind.Update:
                    await _history.UpdateAsync(key, commit => UpdateAsync(operation, key, commit)).ConfigureAwait(false);
                    break;
                default:
                    string tag = TagOf(operation.Key) is "*" ? "*" : _prefix + TagOf(operation.Key);
                    await _history.EvictAsync($"RemoveByTagAsync({tag})", null, tag, () => _cache.RemoveByTagAsync(tag).AsTask()).ConfigureAwait(false);
                    break;
            }
        }
    }

    /// <summary>As generated code runs [UpdatesCache]: begin, the write (which commits partway), complete with its result.</summary>
    private async Task UpdateAsync(Operation operation, string key, Func<string> commit)
    {
        var methods = (IMethodCache)_cache;
        using CacheUpdate update = await methods.BeginUpdateAsync(_method, key, TagsOf(operation.Key)).ConfigureAwait(false);
        for (int i = 0; i < operation.Work; i++)
            await Task.Yield();
        string value = commit();
        for (int i = 0; i < operation.AfterCommit; i++)
            await Task.Yield();
        await methods.CompleteUpdateAsync(update, value, null).ConfigureAwait(false);
    }

    private async Task GetAsync(Operation operation, string name)
    {
        // A run takes well under an entry's lifetime: without this wait a source would fail only on a cold key, and
        // fail-safe would never serve an expired value for the model to judge.
        if (operation.AfterExpiry)
            await Task.Delay(Lifetime + TimeSpan.FromMilliseconds(1)).ConfigureAwait(false);
        var caller = new Caller(this, operation);
        using var giveUp = new CancellationTokenSource();
        string key = KeyName(operation.Key);
        long start = _history.Now;
        Task<string> call = ((IMethodCache)_cache).GetOrCreateAsync(_method, key, caller, static (c, ct) => c.Run.FillAsync(c, ct),
            static c => c.Run.TagsOf(c.Operation.Key), null, operation.GiveUpAfter >= 0 ? giveUp.Token : default).AsTask();
        if (operation.GiveUpAfter >= 0)
        {
            for (int i = 0; i < operation.GiveUpAfter; i++)
                await Task.Yield();
            caller.GaveUp = true;
            giveUp.Cancel();
        }
        try
        {
            _history.Read(name, key, start, await call.ConfigureAwait(false));
        }
        catch (SourceDownException)
        {
            // The source failed (this caller's, or that of the fill it joined) and no expired value was at hand: the
            // failure is the source's, nothing to judge.
        }
        catch (Exception e) when (!caller.GaveUp)
        {
            _history.Failed($"{name} ({key}) failed though it never gave up: {e.GetType().Name}: {e.Message}");
        }
        catch (Exception)
        {
            // It gave up: however it ends is its own doing.
        }
        finally
        {
            // Its request is over: its scope goes (as ASP.NET Core disposes a request's services after it ends).
            caller.ScopeDisposed = caller.GaveUp;
        }
    }

    private async ValueTask<string> FillAsync(Caller caller, CancellationToken token)
    {
        string value = _history.NewFillValue(KeyName(caller.Operation.Key));
        for (int i = 0; i < caller.Operation.Work; i++)
            await Task.Yield();
        ObjectDisposedException.ThrowIf(caller.Operation.NeedsScope && caller.ScopeDisposed, caller);
        if (caller.Operation.Fails)
            throw new SourceDownException();
        return value;
    }

    private sealed class SourceDownException() : Exception("the source is down");

    private sealed class Caller(ConcurrentRun run, Operation operation)
    {
        public ConcurrentRun Run { get; } = run;

        public Operation Operation { get; } = operation;

        public volatile bool GaveUp;

        public volatile bool ScopeDisposed;
    }
}
