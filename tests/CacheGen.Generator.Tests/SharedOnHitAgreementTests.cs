using System.Collections.ObjectModel;
using System.ComponentModel;
using CacheGen.Generator.Tests.Infrastructure;
using CacheGen.Redis;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace CacheGen.Generator.Tests;

/// <summary>
/// "Shared on a hit" is decided twice: at compile time by CG0018 (the analyzer warns when a cached type will be
/// deserialized anew for every caller) and at run time by CacheGen.Redis's ImmutableType (which decides it). The
/// runtime's rule is the definition; this test holds the analyzer to it, type by type, on the same types: the
/// compilation references this assembly, so both sides look at one declaration of each.
/// </summary>
public sealed class SharedOnHitAgreementTests
{
    public static TheoryData<Type> Types() =>
    [
        typeof(string),
        typeof(int),
        typeof(int?),
        typeof(DateTimeOffset),
        typeof(KeyValuePair<int, long>),
        typeof(KeyValuePair<int, string>),
        typeof(ValueTuple<int, int>),
        typeof(Guid),
        typeof(JsonPayload),
        typeof(SharingCases.SealedMarked),
        typeof(SharingCases.SealedMarkedRecord),
        typeof(SharingCases.OpenMarked),
        typeof(SharingCases.SealedUnmarked),
        typeof(SharingCases.MarkedNotImmutable),
        typeof(SharingCases.PlainStruct),
        typeof(SharingCases.StructWithReference),
        typeof(IReadOnlyList<SharingCases.SealedMarked>),
        typeof(IReadOnlyCollection<SharingCases.SealedMarked>),
        typeof(IEnumerable<SharingCases.SealedMarked>),
        typeof(IReadOnlyList<SharingCases.SealedUnmarked>),
        typeof(IReadOnlyList<string>),
        typeof(List<SharingCases.SealedMarked>),
        typeof(SharingCases.SealedMarked[]),
        typeof(ReadOnlyCollection<SharingCases.SealedMarked>),
        typeof(Dictionary<string, int>),
    ];

    [Theory]
    [MemberData(nameof(Types))]
    public void The_analyzer_warns_exactly_when_the_runtime_deserializes_per_hit(Type type)
    {
        bool sharedAtRunTime = SharedAtRunTime(type);
        string name = Display(type);
        CSharpCompilation compilation = GeneratorHarness.Compile($$"""
            using System.Threading.Tasks;
            using CacheGen;
            using Microsoft.Extensions.Caching.Hybrid;
            namespace App;
            public partial class Service(HybridCache cache)
            {
                [Cached("items")]
                public partial Task<{{name}}> GetAsync(int id);
                private Task<{{name}}> GetCoreAsync(int id) => Task.FromResult<{{name}}>(default!);
            }
            """).AddReferences(MetadataReference.CreateFromFile(typeof(SharedOnHitAgreementTests).Assembly.Location));
        GeneratorRun run = GeneratorHarness.Run(compilation);
        Assert.Empty(run.CompilationDiagnostics.Where(d => d.Severity == DiagnosticSeverity.Error));

        bool warned = run.CacheGenDiagnostics.Any(d => d.Id == "CG0018");
        Assert.True(warned != sharedAtRunTime,
            $"{name}: the runtime {(sharedAtRunTime ? "shares one instance" : "deserializes a copy per hit")}, but CG0018 {(warned ? "warns" : "is silent")}");
    }

    // The runtime's decision: one instance for every caller, or a read-only copy of an immutable element type.
    private static bool SharedAtRunTime(Type type)
    {
        Type rule = typeof(CacheGenOptions).Assembly.GetType("CacheGen.Redis.ImmutableType`1", throwOnError: true)!.MakeGenericType(type);
        bool value = (bool)rule.GetField("Value")!.GetValue(null)!;
        return value || rule.GetField("ReadOnlyCopy")!.GetValue(null) is not null;
    }

    private static string Display(Type type)
    {
        if (type.IsArray)
            return Display(type.GetElementType()!) + "[]";
        string name = "global::" + (type.FullName ?? type.Name).Replace('+', '.');
        if (!type.IsGenericType)
            return name;
        string definition = "global::" + type.GetGenericTypeDefinition().FullName!.Replace('+', '.');
        return definition[..definition.IndexOf('`')] + "<" + string.Join(", ", type.GetGenericArguments().Select(Display)) + ">";
    }
}

/// <summary>Types whose sharing on a hit both rules must agree on.</summary>
public static class SharingCases
{
    [ImmutableObject(true)]
    public sealed class SealedMarked
    {
        public int Id { get; init; }
    }

    [ImmutableObject(true)]
    public sealed record SealedMarkedRecord(int Id, string Name);

    [ImmutableObject(true)]
    public class OpenMarked
    {
        public int Id { get; init; }
    }

    public sealed class SealedUnmarked
    {
        public int Id { get; set; }
    }

    [ImmutableObject(false)]
    public sealed class MarkedNotImmutable
    {
        public int Id { get; set; }
    }

    public struct PlainStruct
    {
        public int X { get; set; }
        public long Y { get; set; }
    }

    public struct StructWithReference
    {
        public string Name { get; set; }
    }
}
