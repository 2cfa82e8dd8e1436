namespace CacheGen.Generator.Tests.Build;

/// <summary>Decorator misuses under the real <c>dotnet build</c>: each is one CG error at its file, beside C# errors.</summary>
public sealed partial class DotnetBuildTests
{
    private static readonly Dictionary<string, string> DecoratorMisuses = new()
    {
        ["CG0060"] = """
            public class HttpRates { }
            [CacheDecorator(typeof(HttpRates))]
            public sealed partial class NotAnInterface(IRates inner, HybridCache cache)
            {
                [Cached("rates")]
                public partial Task<decimal> GetRateAsync(string from, string to);
            }
            """,
        ["CG0061"] = """
            [CacheDecorator(typeof(IRates))]
            public sealed partial class TwoInner(IRates primary, IRates fallback, HybridCache cache)
            {
                [Cached("rates")]
                public partial Task<decimal> GetRateAsync(string from, string to);
            }
            """,
        ["CG0062"] = """
            [CacheDecorator(typeof(IRates))]
            public sealed partial class NoSuchMember(IRates inner, HybridCache cache)
            {
                [Cached("rates")]
                public partial Task<decimal> GetRateAsync(string from);
            }
            """,
        // Not partial: the compiler's own errors for the partial methods come too.
        ["CG0063"] = """
            [CacheDecorator(typeof(IRates))]
            public sealed class NotPartial(IRates inner, HybridCache cache)
            {
                [Cached("rates")]
                public partial Task<decimal> GetRateAsync(string from, string to);
            }
            """,
        ["CG0064"] = """
            public interface IRepository<T> { Task<T?> FindAsync(int id); }
            [CacheDecorator(typeof(IRepository<>))]
            public sealed partial class OpenGeneric<T>(IRepository<T> inner, HybridCache cache);
            """,
    };

    [Fact]
    public void Every_decorator_misuse_is_one_CG_error_at_its_file_beside_CSharp_errors()
    {
        string project = CreateProject("decorators");
        File.WriteAllText(Path.Combine(project, "Contracts.cs"), Usings + """
            public interface IRates { Task<decimal> GetRateAsync(string from, string to); string Name { get; } }
            """);
        foreach ((string id, string source) in DecoratorMisuses)
            File.WriteAllText(Path.Combine(project, id + ".cs"), Usings + source);
        File.WriteAllText(Path.Combine(project, "Typo.cs"), Usings + "public sealed class Typo { public Strin Name => \"\"; }");
        File.WriteAllText(Path.Combine(project, "Valid.cs"), Usings + """
            [CacheDecorator(typeof(IRates))]
            public sealed partial class CachedRates(IRates inner, HybridCache cache)
            {
                [Cached("rates", Key = "{from}:{to}")]
                public partial Task<decimal> GetRateAsync(string from, string to);
            }
            """);

        (int exitCode, string output) = Build(project);
        Assert.NotEqual(0, exitCode);
        BuildDiagnostic[] diagnostics = Parse(output);
        string all = string.Join("\n", diagnostics.Select(d => d.ToString()));

        Assert.Contains(diagnostics, d => d.Id.StartsWith("CS", StringComparison.Ordinal) && d.File == "CG0063.cs");
        Assert.Contains(diagnostics, d => d.Id == "CS0246" && d.File == "Typo.cs");
        foreach (string id in DecoratorMisuses.Keys)
        {
            BuildDiagnostic[] cg = diagnostics.Where(d => d.Id.StartsWith("CG", StringComparison.Ordinal) && d.File == id + ".cs").ToArray();
            Assert.True(cg.Length == 1 && cg[0].Id == id && cg[0].Severity == "error", $"{id}.cs: expected one error {id}, got:\n{all}");
        }
        Assert.True(diagnostics.Count(d => d.Id.StartsWith("CG", StringComparison.Ordinal)) == DecoratorMisuses.Count, all);
        Assert.DoesNotContain(diagnostics, d => d.File.EndsWith(".g.cs", StringComparison.Ordinal));
        Assert.DoesNotContain(diagnostics, d => d.File is "Valid.cs" or "Contracts.cs");
    }
}
