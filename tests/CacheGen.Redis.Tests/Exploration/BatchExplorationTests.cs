using CacheGen.Redis.Tests.Infrastructure;
using CsCheck;
using Xunit.Abstractions;

namespace CacheGen.Redis.Tests.Exploration;

/// <summary>
/// Batch reads racing single reads, evictions and sets of the same keys, on a real redis-server and in-process, under
/// real concurrency (CsCheck generates the workloads and shrinks a failing one); <see cref="FillHistory"/> is the model.
/// A few seconds each; CACHEGEN_EXPLORE_SECONDS runs them longer.
/// </summary>
public sealed class BatchExplorationTests(RedisFixture redis, ITestOutputHelper output) : IClassFixture<RedisFixture>
{
    private static int Seconds(int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable("CACHEGEN_EXPLORE_SECONDS"), out int seconds) && seconds > 0 ? seconds : fallback;

    private Task Explore(Func<BatchOperation[][], Task<List<string>>> check) =>
        BatchConcurrentRun.Workloads.SampleAsync(async workers =>
        {
            List<string> violations = await check(workers);
            if (violations.Count > 0)
                throw new Xunit.Sdk.XunitException(string.Join(Environment.NewLine, violations));
        }, writeLine: output.WriteLine, time: Seconds(3), threads: 1, print: BatchConcurrentRun.Print);

    [Fact]
    public Task In_process_batches_single_reads_and_evictions_keep_the_model() =>
        Explore(async workers =>
        {
            await using var instance = CacheInstance.Create(redis: null);
            var run = new BatchConcurrentRun(instance);
            return [.. await run.RunAsync(workers), .. await run.CleanUpAsync(instance.Hooks)];
        });

    [Fact]
    public async Task On_redis_batches_single_reads_and_evictions_keep_the_model()
    {
        await using var instance = CacheInstance.Create(redis.Configuration);
        await instance.Hooks.BackplaneReady;
        await Explore(async workers =>
        {
            var run = new BatchConcurrentRun(instance);
            List<string> violations = [.. await run.RunAsync(workers), .. await run.CleanUpAsync(instance.Hooks)];
            await instance.SettledAsync();
            return violations;
        });
    }
}
