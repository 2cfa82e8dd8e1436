using CacheGen.Redis.Tests.Infrastructure;
using CsCheck;
using Xunit.Abstractions;

namespace CacheGen.Redis.Tests.Exploration;

/// <summary>
/// Explores the fill / flight / L1 / eviction state machine with random scenarios (CsCheck generates and shrinks
/// them): callers that start, join, replace and abandon fills, data calls held and released in any order, callers that
/// give up (their scope then disposed), and evictions by key, by tag and of everything, checked against the model in
/// <see cref="FillHistory"/>. Each test runs a few seconds; CACHEGEN_EXPLORE_SECONDS runs it longer, and CsCheck_Seed
/// replays a reported seed.
/// </summary>
public sealed class FillExplorationTests(RedisFixture redis, ITestOutputHelper output) : IClassFixture<RedisFixture>
{
    private static int Seconds(int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable("CACHEGEN_EXPLORE_SECONDS"), out int seconds) && seconds > 0 ? seconds : fallback;

    /// <summary>
    /// Samples <paramref name="cases"/> for a few seconds, and at least <see cref="MinimumCases"/> cases however slow the
    /// machine; <paramref name="check"/> runs one case and returns the model's violations, which fail the test with the
    /// shrunk case.
    /// </summary>
    private async Task Explore<T>(Gen<T> cases, Func<T, string> print, Func<T, Task<List<string>>> check)
    {
        int ran = 0;
        async Task Check(T sample)
        {
            Interlocked.Increment(ref ran);
            List<string> violations = await check(sample);
            if (violations.Count > 0)
                throw new Xunit.Sdk.XunitException(string.Join(Environment.NewLine, violations));
        }
        await cases.SampleAsync(Check, writeLine: output.WriteLine, time: Seconds(3), threads: 1, print: print);
        if (ran < MinimumCases)
            await cases.SampleAsync(Check, writeLine: output.WriteLine, iter: MinimumCases - ran, threads: 1, print: print);
        Assert.True(ran >= MinimumCases, $"only {ran} cases ran");
    }

    /// <summary>Fewer cases than this would explore too little to mean anything (a loaded machine may run few in the time).</summary>
    private const int MinimumCases = 200;

    [Fact]
    public Task In_process_no_read_after_an_eviction_returns_an_older_value_and_no_caller_fails_for_another() =>
        Explore(Scenario.Scenarios(), Scenario.Print, async steps =>
        {
            await using var instance = CacheInstance.Create(redis: null);
            var run = new ScenarioRun(instance, networked: false);
            return [.. await run.RunAsync(steps), .. await run.CleanUpAsync()];
        });

    [Fact]
    public async Task On_redis_no_read_after_an_eviction_returns_an_older_value_and_no_caller_fails_for_another()
    {
        // One instance for the whole exploration (keys and tags are unique to each scenario).
        await using var instance = CacheInstance.Create(redis.Configuration);
        await instance.Hooks.BackplaneReady;
        await Explore(Scenario.Scenarios(), Scenario.Print, async steps =>
        {
            var run = new ScenarioRun(instance, networked: true);
            return [.. await run.RunAsync(steps), .. await run.CleanUpAsync()];
        });
    }

    [Fact]
    public Task In_process_under_real_concurrency_the_same_model_holds() =>
        Explore(ConcurrentRun.Workloads, ConcurrentRun.Print, async workers =>
        {
            await using var instance = CacheInstance.Create(redis: null);
            var run = new ConcurrentRun(instance);
            return [.. await run.RunAsync(workers), .. await run.CleanUpAsync(instance.Hooks)];
        });

    [Fact]
    public async Task On_redis_with_refresh_ahead_under_real_concurrency_the_same_model_holds()
    {
        await using var instance = CacheInstance.Create(redis.Configuration);
        await instance.Hooks.BackplaneReady;
        await Explore(ConcurrentRun.Workloads, ConcurrentRun.Print, async workers =>
        {
            var run = new ConcurrentRun(instance, refreshAhead: true);
            return [.. await run.RunAsync(workers), .. await run.CleanUpAsync(instance.Hooks)];
        });
    }

    [Fact]
    public async Task On_redis_under_real_concurrency_the_same_model_holds()
    {
        await using var instance = CacheInstance.Create(redis.Configuration);
        await instance.Hooks.BackplaneReady;
        await Explore(ConcurrentRun.Workloads, ConcurrentRun.Print, async workers =>
        {
            var run = new ConcurrentRun(instance);
            return [.. await run.RunAsync(workers), .. await run.CleanUpAsync(instance.Hooks)];
        });
    }
}
