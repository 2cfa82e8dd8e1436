using System.Diagnostics;
using BenchmarkDotNet.Running;
using CacheGen.Generator.Benchmarks;
using Microsoft.CodeAnalysis;

// `dotnet run -c Release -- --quick`: Stopwatch medians in milliseconds (the README's numbers);
// anything else goes to BenchmarkDotNet (`-- --filter '*'`).
if (args is ["--quick"])
{
    var bench = new GeneratorBenchmarks();
    bench.Setup();
    GeneratorDriver check = bench.FullRun();
    int files = check.GetRunResult().GeneratedTrees.Length;
    int errors = check.GetRunResult().Diagnostics.Length;
    Console.WriteLine($"{GeneratorBenchmarks.Types} types, {GeneratorBenchmarks.Types * GeneratorBenchmarks.MethodsPerType} methods: {files} files generated, {errors} generator diagnostics");

    double full = Median(bench.FullRun, 15);
    double edit = Median(bench.UnrelatedEdit, 50);
    Console.WriteLine($"full run:       {full:F1} ms (median of 15, after warm-up)");
    double floor = Median(bench.UnrelatedEditFloor, 50);
    Console.WriteLine($"unrelated edit: {edit:F1} ms (median of 50), {full / edit:F1}x faster than a full run, nothing re-emitted");
    Console.WriteLine($"  Roslyn's floor for the same edit (find and bind the attributes, nothing else): {floor:F1} ms");
    return;
}
BenchmarkSwitcher.FromAssembly(typeof(GeneratorBenchmarks).Assembly).Run(args);

static double Median(Func<GeneratorDriver> run, int count)
{
    for (int i = 0; i < 3; i++)
        run();
    var times = new List<double>();
    for (int i = 0; i < count; i++)
    {
        long start = Stopwatch.GetTimestamp();
        run();
        times.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
    }
    times.Sort();
    return times[count / 2];
}
