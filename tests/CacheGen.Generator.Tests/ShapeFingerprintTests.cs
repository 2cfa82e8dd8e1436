using System.Text.RegularExpressions;
using CacheGen.Generator.Tests.Infrastructure;

namespace CacheGen.Generator.Tests;

/// <summary>
/// The shape fingerprint generated code hands the runtime (<c>CachedMethod.Shape</c>): the same for a type that did not
/// change, whatever order its members are written in; different once a member JSON carries is added, removed, renamed
/// or retyped, here or in a nested type. Two builds on one Redis keep their entries apart by it.
/// </summary>
public sealed class ShapeFingerprintTests
{
    private static string ShapeOf(string types)
    {
        GeneratorRun run = GeneratorHarness.Run($$"""
            using System.Collections.Generic;
            using System.Text.Json.Serialization;
            using System.Threading.Tasks;
            using CacheGen;
            using Microsoft.Extensions.Caching.Hybrid;
            namespace App;

            public partial class Service(HybridCache cache)
            {
                [Cached("posts")]
                public partial Task<Post> GetAsync(int id);
                private Task<Post> GetCoreAsync(int id) => Task.FromResult<Post>(null!);
            }

            {{types}}
            """);
        Assert.Empty(run.CompilationDiagnostics.Where(d => d.Severity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error));
        Match shape = run.Sources.Select(s => Regex.Match(s.SourceText.ToString(), "Shape = \"([0-9a-f]{16})\"")).Single(m => m.Success);
        return shape.Groups[1].Value;
    }

    private const string Post = """
        public sealed class Post
        {
            public int Id { get; set; }
            public string Title { get; set; } = "";
            public Author? Author { get; set; }
            public List<string> Tags { get; set; } = [];
            public Status Status { get; set; }
        }
        public sealed record Author(string Name);
        public enum Status { Draft, Published }
        """;

    [Fact]
    public void A_type_that_did_not_change_keeps_its_fingerprint_whatever_the_order_of_its_members() =>
        Assert.Equal(ShapeOf(Post), ShapeOf("""
            public enum Status { Draft, Published }
            public sealed record Author(string Name);
            public sealed class Post
            {
                public Status Status { get; set; }
                public List<string> Tags { get; set; } = [];
                public Author? Author { get; set; }
                public string Title { get; set; } = "";
                public int Id { get; set; }
                public int Computed() => Id;   // a method is no part of the JSON
            }
            """));

    [Fact]
    public void The_fingerprint_is_the_same_in_every_build()
    {
        // Pinned: a change here turns every entry of every app into a miss on upgrade, so it must be on purpose.
        Assert.Equal("839b37775919c71d", ShapeOf(Post));
    }

    public static TheoryData<string, string, string> Changes => new()
    {
        { "a property added", "public Status Status { get; set; }", "public Status Status { get; set; } public int Views { get; set; }" },
        { "a property removed", "public Status Status { get; set; }", "" },
        { "a property renamed", "public string Title { get; set; } = \"\";", "public string Headline { get; set; } = \"\";" },
        { "a property retyped", "public int Id { get; set; }", "public long Id { get; set; }" },
        { "nullable-ness changed", "public string Title { get; set; } = \"\";", "public string? Title { get; set; }" },
        { "a JSON name given", "public int Id { get; set; }", "[JsonPropertyName(\"post_id\")] public int Id { get; set; }" },
        { "a nested type changed", "public sealed record Author(string Name);", "public sealed record Author(string Name, string Email);" },
        { "an element type changed", "public List<string> Tags", "public List<int> Tags" },
        { "an enum member added", "public enum Status { Draft, Published }", "public enum Status { Draft, Published, Archived }" },
        { "a field added", "public Status Status { get; set; }", "public Status Status { get; set; } public int Rank;" },
    };

    [Theory]
    [MemberData(nameof(Changes))]
    public void A_change_JSON_sees_gives_another_fingerprint(string change, string from, string to)
    {
        Assert.Contains(from, Post);
        Assert.True(ShapeOf(Post) != ShapeOf(Post.Replace(from, to)), change);
    }

    [Fact]
    public void A_member_JSON_ignores_does_not_change_it() =>
        Assert.Equal(ShapeOf(Post), ShapeOf(Post.Replace("public int Id { get; set; }", "public int Id { get; set; } [JsonIgnore] public int Cached { get; set; } private int _secret;")));
}
