using System.Collections;
using System.Reflection;
using CacheGen.Generator.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace CacheGen.Generator.Tests;

/// <summary>The generator re-uses its work when nothing it depends on changed, which keeps the IDE responsive.</summary>
public sealed class IncrementalityTests
{
    private const string Service = """
        using System.Threading;
        using System.Threading.Tasks;
        using CacheGen;
        using Microsoft.Extensions.Caching.Hybrid;
        namespace App;

        public partial class Service(HybridCache cache)
        {
            [Cached("items", Key = "item:{id}", Tags = ["item:{id}"])]
            public partial Task<int> GetAsync(int id, CancellationToken ct = default);
            private Task<int> GetCoreAsync(int id, CancellationToken ct) => Task.FromResult(id);

            [InvalidatesCache("items")]
            public partial Task SaveAsync(int id);
            private Task SaveCoreAsync(int id) => Task.CompletedTask;

            [UpdatesCache(nameof(GetAsync))]
            [InvalidatesCache(Tags = ["item:{id}"])]
            public partial Task<int> BumpAsync(int id);
            private Task<int> BumpCoreAsync(int id) => Task.FromResult(id + 1);

            [CachedBatch(nameof(GetAsync))]
            public partial Task<System.Collections.Generic.IReadOnlyDictionary<int, int>> GetManyAsync(System.Collections.Generic.IReadOnlyList<int> ids);
            private Task<System.Collections.Generic.IReadOnlyDictionary<int, int>> GetManyCoreAsync(System.Collections.Generic.IReadOnlyList<int> ids) =>
                Task.FromResult<System.Collections.Generic.IReadOnlyDictionary<int, int>>(new System.Collections.Generic.Dictionary<int, int>());
        }

        public interface IStore { Task<int> GetAsync(int id); int Count { get; } }

        [CacheDecorator(typeof(IStore))]
        public partial class CachedStore(IStore inner, HybridCache cache)
        {
            [Cached("store")]
            public partial Task<int> GetAsync(int id);
        }
        """;

    [Fact]
    public void Same_compilation_twice_leaves_every_step_and_output_cached()
    {
        GeneratorRun first = GeneratorHarness.Run(Service);
        GeneratorRun second = GeneratorHarness.Run(first.Input, first.Driver);
        AssertEveryStepCachedOrUnchanged(second);
    }

    [Fact]
    public void Unrelated_edit_leaves_every_step_cached_or_unchanged()
    {
        GeneratorRun first = GeneratorHarness.Run(Service, "namespace App; public class Other { }");
        CSharpCompilation edited = first.Input.ReplaceSyntaxTree(
            first.Input.SyntaxTrees.Last(),
            CSharpSyntaxTree.ParseText("namespace App; public class Other { public int Added => 42; }", GeneratorHarness.ParseOptions, path: "Source1.cs"));
        GeneratorRun second = GeneratorHarness.Run(edited, first.Driver);

        AssertEveryStepCachedOrUnchanged(second);
    }

    private static void AssertEveryStepCachedOrUnchanged(GeneratorRun second)
    {
        var steps = second.Driver.GetRunResult().Results.Single().TrackedSteps;
        foreach (string name in TrackingNames.All)
        {
            Assert.True(steps.ContainsKey(name), $"step {name} was not tracked");
            var reasons = steps[name].SelectMany(s => s.Outputs).Select(o => o.Reason).ToArray();
            Assert.NotEmpty(reasons);
            Assert.All(reasons, r => Assert.True(r is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"{name}: {r}"));
        }
        Assert.All(second.Driver.GetRunResult().Results.Single().TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs),
            o => Assert.Equal(IncrementalStepRunReason.Cached, o.Reason));
    }

    [Fact]
    public void Edit_inside_the_core_method_body_does_not_regenerate()
    {
        GeneratorRun first = GeneratorHarness.Run(Service);
        CSharpCompilation edited = first.Input.ReplaceSyntaxTree(
            first.Input.SyntaxTrees.Single(),
            CSharpSyntaxTree.ParseText(Service.Replace("Task.FromResult(id)", "Task.FromResult(id + 1)"), GeneratorHarness.ParseOptions, path: "Source0.cs"));
        GeneratorRun second = GeneratorHarness.Run(edited, first.Driver);

        var outputs = second.Driver.GetRunResult().Results.Single().TrackedSteps[TrackingNames.CachedModels].SelectMany(s => s.Outputs);
        Assert.All(outputs, o => Assert.True(o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, o.Reason.ToString()));
    }

    [Fact]
    public void Edit_above_a_misused_method_moves_its_error_but_leaves_the_models_cached()
    {
        // Diagnostics carry positions and models do not: a line added above shifts the error and regenerates nothing.
        string misused = Service.Replace("private Task SaveCoreAsync(int id) => Task.CompletedTask;", "");
        GeneratorRun first = GeneratorHarness.Run(misused);
        CSharpCompilation edited = first.Input.ReplaceSyntaxTree(
            first.Input.SyntaxTrees.Single(),
            CSharpSyntaxTree.ParseText("// a new first line\n" + misused, GeneratorHarness.ParseOptions, path: "Source0.cs"));
        GeneratorRun second = GeneratorHarness.Run(edited, first.Driver);

        var steps = second.Driver.GetRunResult().Results.Single().TrackedSteps;
        foreach (string name in new[] { TrackingNames.CachedModels, TrackingNames.InvalidatingModels })
            Assert.All(steps[name].SelectMany(s => s.Outputs), o => Assert.True(o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"{name}: {o.Reason}"));
        Assert.Contains(steps[TrackingNames.InvalidatingErrors].SelectMany(s => s.Outputs), o => o.Reason == IncrementalStepRunReason.Modified);

        Diagnostic before = Assert.Single(first.GeneratorDiagnostics);
        Diagnostic after = Assert.Single(second.GeneratorDiagnostics);
        Assert.Equal("CG0003", after.Id);
        Assert.Equal(before.Location.GetLineSpan().StartLinePosition.Line + 1, after.Location.GetLineSpan().StartLinePosition.Line);
    }

    [Fact]
    public void Every_step_has_a_tracking_name()
    {
        // The generator's own steps are the tracked names; anything else tracked would be a step we forgot to name.
        GeneratorRun run = GeneratorHarness.Run(Service);
        var tracked = run.Driver.GetRunResult().Results.Single().TrackedSteps.Keys
            .Where(k => !k.StartsWith("compilationAndGroupedNodes", StringComparison.Ordinal) && !k.StartsWith("result_ForAttribute", StringComparison.Ordinal))
            .ToHashSet();
        Assert.Superset(TrackingNames.All.ToHashSet(), tracked);
        Assert.Subset(tracked, TrackingNames.All.ToHashSet());
    }

    [Fact]
    public void Models_hold_no_symbols_syntax_or_compilation()
    {
        // Every value any tracked step holds, including the parser's output: a misused method too, so error paths count.
        GeneratorRun run = GeneratorHarness.Run(Service, """
            using CacheGen;
            namespace App;
            public partial class Broken { [Cached("x")] public partial int Count(); }
            """);
        var steps = run.Driver.GetRunResult().Results.Single().TrackedSteps;
        object[] models = TrackingNames.All.SelectMany(name => steps[name])
            .SelectMany(s => s.Outputs).Select(o => o.Value).ToArray();
        Assert.NotEmpty(models);
        foreach (object model in models)
            AssertPlainData(model, model.GetType().Name, new HashSet<object>(ReferenceEqualityComparer.Instance));
    }

    private static void AssertPlainData(object? value, string path, HashSet<object> seen)
    {
        if (value is null || value is string || value.GetType().IsPrimitive || value.GetType().IsEnum || !seen.Add(value))
            return;
        // The one exception: a diagnostic's location keeps the user's tree (no compilation, no symbol; equal until that
        // file is edited), so that #pragma warning disable applies to the warnings the generator reports.
        if (path.EndsWith(".Tree", StringComparison.Ordinal) && value is SyntaxTree)
            return;
        Assert.False(value is ISymbol or SyntaxNode or SyntaxTree or Compilation or SemanticModel or Location or SyntaxToken or SyntaxReference or AttributeData,
            $"{path} holds a {value.GetType().Name}, which pins a compilation in memory and breaks caching");
        if (value is IEnumerable items)
        {
            int i = 0;
            foreach (object? item in items)
                AssertPlainData(item, $"{path}[{i++}]", seen);
            return;
        }
        foreach (PropertyInfo property in value.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.GetIndexParameters().Length == 0)
                AssertPlainData(property.GetValue(value), $"{path}.{property.Name}", seen);
        }
    }
}
