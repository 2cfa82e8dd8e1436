using CacheGen.Redis.Tests.Infrastructure;
using Microsoft.Extensions.Caching.Hybrid;

namespace CacheGen.Redis.Tests.Exploration;

/// <summary>
/// Plays a <see cref="Step"/> scenario against one cache instance, one step at a time, letting the instance settle
/// after each (nothing observable moves for a few milliseconds), and records what every caller saw in a
/// <see cref="FillHistory"/>. Keys and tags are unique to the run, so runs can share a Redis.
/// </summary>
internal sealed class ScenarioRun
{
    private readonly HybridCache _cache;
    private readonly RedisHybridCache.TestHooks _hooks;
    private readonly FillHistory _history = new();
    private readonly string _prefix = $"x{Guid.NewGuid():N}:";
    private readonly bool _networked;
    private readonly List<Caller> _callers = [];
    private readonly List<TaskCompletionSource> _held = [];
    private int _named;

    public ScenarioRun(CacheInstance instance, bool networked)
    {
        _cache = instance.Cache;
        _hooks = instance.Hooks;
        _networked = networked;
    }

    private string KeyName(int key) => $"{_prefix}k{key}";

    private string TagName(string tag) => _prefix + tag;

    private string[] TagsOf(int key) => [.. Scenario.TagsOf(key).Select(TagName)];

    private string[] TagsOf(string keyName) => TagsOf(keyName[^1] - '0');

    /// <summary>Runs the steps, lets every caller finish, reads each key once more, and returns what broke the model.</summary>
    public async Task<List<string>> RunAsync(IReadOnlyList<Step> steps)
    {
        _hooks.FillFinished = _ => _history.Progress();
        _hooks.AfterRedisRead = _ =>
        {
            _history.Progress();
            return ValueTask.CompletedTask;
        };
        try
        {
            foreach (Step step in steps)
            {
                await ApplyAsync(step).ConfigureAwait(false);
                await SettleAsync().ConfigureAwait(false);
            }

            // Release held data calls until every caller is done (one filling in place of a caller that left holds
            // its own, perhaps a while later), for at most 20 s: a caller still waiting then is stuck for good.
            var violations = new List<string>();
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (_callers.Any(c => !c.Done.IsCompleted))
            {
                if (clock.Elapsed > TimeSpan.FromSeconds(20))
                {
                    violations.AddRange(_callers.Where(c => !c.Done.IsCompleted).Select(c => $"{c.Name} ({c.Key[_prefix.Length..]}) never finished"));
                    return violations;
                }
                ReleaseAll();
                await SettleAsync().ConfigureAwait(false);
                await Task.Delay(1).ConfigureAwait(false);
            }

            // One more read of each key, after everything.
            for (int key = 0; key < Scenario.Keys; key++)
            {
                var reader = new Caller(this, "final" + key, KeyName(key), TagsOf(key), held: false, honorsToken: false, needsScope: false,
                    asRecord: false, giveUp: null);
                _callers.Add(reader);
                await CallAsync(reader).ConfigureAwait(false);
            }
            violations.AddRange(_history.Violations(TagsOf));
            return [.. violations.Select(v => v.Replace(_prefix, ""))];
        }
        finally
        {
            _hooks.FillFinished = null;
            _hooks.AfterRedisRead = null;
            ReleaseAll();
        }
    }

    /// <summary>Removes the run's keys; then nothing may be left in flight or counted in-process (when the instance is the run's alone).</summary>
    public async Task<List<string>> CleanUpAsync()
    {
        for (int key = 0; key < Scenario.Keys; key++)
            await _cache.RemoveAsync(KeyName(key)).ConfigureAwait(false);
        var problems = new List<string>();
        if (_hooks.FlightCount != 0)
            problems.Add($"{_hooks.FlightCount} fill(s) still registered");
        if (_hooks.LocalCount != 0 || _hooks.LocalAccountedCount != 0 || _hooks.LocalBytes != 0)
            problems.Add($"in-process cache not empty: {_hooks.LocalCount} entries, counted {_hooks.LocalAccountedCount} and {_hooks.LocalBytes} bytes");
        return problems;
    }

    private async Task ApplyAsync(Step step)
    {
        switch (step.Kind)
        {
            case StepKind.Get:
                var caller = new Caller(this, "c" + ++_named, KeyName(step.Key), TagsOf(step.Key), step.Held, step.HonorsToken, step.NeedsScope,
                    step.AsRecord, step.Cancellable ? new CancellationTokenSource() : null);
                _callers.Add(caller);
                caller.Done = CallAsync(caller);
                break;
            case StepKind.Cancel:
                Caller[] present = [.. _callers.Where(c => c.GiveUp is not null && !c.GaveUp && !c.Done.IsCompleted)];
                if (present.Length > 0)
                {
                    Caller leaving = present[step.Index % present.Length];
                    leaving.GaveUp = true;
                    leaving.GiveUp!.Cancel();
                }
                break;
            case StepKind.Release:
                lock (_held)
                {
                    if (_held.Count > 0)
                        _held[step.Index % _held.Count].TrySetResult();
                }
                break;
            case StepKind.Remove:
                string removed = KeyName(step.Key);
                await _history.EvictAsync($"RemoveAsync({removed})", removed, null, () => _cache.RemoveAsync(removed).AsTask()).ConfigureAwait(false);
                break;
            case StepKind.Set:
                string set = KeyName(step.Key);
                string[] tags = TagsOf(step.Key);
                await _history.SetAsync(set, value => _cache.SetAsync(set, value, tags: tags).AsTask()).ConfigureAwait(false);
                break;
            case StepKind.RemoveTag:
                string tag = TagName(Scenario.TagNames[step.Index]);
                await _history.EvictAsync($"RemoveByTagAsync({tag})", null, tag, () => _cache.RemoveByTagAsync(tag).AsTask()).ConfigureAwait(false);
                break;
            case StepKind.RemoveAll:
                await _history.EvictAsync("RemoveByTagAsync(*)", null, "*", () => _cache.RemoveByTagAsync("*").AsTask()).ConfigureAwait(false);
                break;
        }
    }

    private async Task CallAsync(Caller caller)
    {
        long start = _history.Now;
        try
        {
            CancellationToken token = caller.GiveUp?.Token ?? default;
            string value = caller.AsRecord
                ? (await _cache.GetOrCreateAsync(caller.Key, caller, static async (c, ct) => new Versioned(await c.Run.FillAsync(c, ct).ConfigureAwait(false)),
                    tags: caller.Tags, cancellationToken: token).ConfigureAwait(false)).Id
                : await _cache.GetOrCreateAsync(caller.Key, caller, static (c, ct) => c.Run.FillAsync(c, ct), tags: caller.Tags,
                    cancellationToken: token).ConfigureAwait(false);
            _history.Read(caller.Name, caller.Key, start, value);
        }
        catch (Exception e) when (!caller.GaveUp)
        {
            _history.Failed($"{caller.Name} ({caller.Key}) failed though it never gave up: {e.GetType().Name}: {e.Message}");
        }
        catch (Exception)
        {
            // It gave up: however it ends is its own doing.
        }
        finally
        {
            // Its request is over: its scope goes (as ASP.NET Core disposes a request's services after it ends).
            caller.ScopeDisposed = caller.GaveUp;
            _history.Progress();
        }
    }

    /// <summary>The data call: its value is stamped when it begins; a held one waits for a Release; it runs on its caller's scope.</summary>
    private async ValueTask<string> FillAsync(Caller caller, CancellationToken token)
    {
        string value = _history.NewFillValue(caller.Key);
        _history.Progress();
        if (!caller.Held)
            return value;
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_held)
            _held.Add(release);
        try
        {
            if (caller.HonorsToken)
                await release.Task.WaitAsync(token).ConfigureAwait(false);
            else
                await release.Task.ConfigureAwait(false);
        }
        finally
        {
            lock (_held)
                _held.Remove(release);
            _history.Progress();
        }
        // It runs on its caller's scope (a DbContext, say), disposed once that caller gave up and its call ended.
        ObjectDisposedException.ThrowIf(caller.NeedsScope && caller.ScopeDisposed, caller);
        return value;
    }

    private void ReleaseAll()
    {
        lock (_held)
        {
            foreach (TaskCompletionSource release in _held)
                release.TrySetResult();
        }
    }

    /// <summary>
    /// Waits until nothing observable has moved for a while (bounded): a few thread-pool turns in-process, where all
    /// the work is queued continuations; a few milliseconds more with Redis, whose answers come from the network.
    /// </summary>
    private async Task SettleAsync()
    {
        await QuietAsync(8, delay: false).ConfigureAwait(false);
        if (_networked)
            await QuietAsync(3, delay: true).ConfigureAwait(false);
    }

    private async Task QuietAsync(int rounds, bool delay)
    {
        long last = _history.ProgressCount;
        int quiet = 0;
        for (int i = 0; i < 1000 && quiet < rounds; i++)
        {
            if (delay)
                await Task.Delay(1).ConfigureAwait(false);
            else
                await Task.Yield();
            long now = _history.ProgressCount;
            if (now == last)
            {
                quiet++;
            }
            else
            {
                quiet = 0;
                last = now;
            }
        }
    }

    private sealed class Caller(ScenarioRun run, string name, string key, string[] tags, bool held, bool honorsToken, bool needsScope,
        bool asRecord, CancellationTokenSource? giveUp)
    {
        public ScenarioRun Run { get; } = run;

        public string Name { get; } = name;

        public string Key { get; } = key;

        public string[] Tags { get; } = tags;

        public bool Held { get; } = held;

        public bool HonorsToken { get; } = honorsToken;

        public bool NeedsScope { get; } = needsScope;

        public bool AsRecord { get; } = asRecord;

        public CancellationTokenSource? GiveUp { get; } = giveUp;

        public volatile bool GaveUp;

        public volatile bool ScopeDisposed;

        public Task Done { get; set; } = Task.CompletedTask;
    }
}
