using System.Text.RegularExpressions;

namespace CacheGen.Packaging.Tests;

/// <summary>
/// The docs as a reader walks them: the front door stays short, every page is one click from the index, and every
/// relative link (and its <c>#anchor</c>) leads somewhere.
/// </summary>
public sealed partial class DocsLinkTests
{
    private static readonly string Root = RepositoryCopy.Source;

    private static IEnumerable<string> Pages() =>
        new[] { "README.md", "CONTRIBUTING.md" }.Select(f => Path.Combine(Root, f))
            .Concat(Directory.GetFiles(Path.Combine(Root, "docs"), "*.md", SearchOption.AllDirectories))
            .Concat(new[] { "runtime", "tools", "bench" }.SelectMany(folder => Directory.GetFiles(Path.Combine(Root, folder), "README.md", SearchOption.AllDirectories)))
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal));

    [Fact]
    public void The_front_door_is_short_and_links_every_page_through_the_index()
    {
        string[] readme = File.ReadAllLines(Path.Combine(Root, "README.md"));
        Assert.True(readme.Length <= 300, $"README.md has {readme.Length} lines: move detail to a page under docs/");

        string index = File.ReadAllText(Path.Combine(Root, "docs", "README.md"));
        string front = string.Join('\n', readme);
        Assert.Contains("docs/README.md", front);
        foreach (string page in Directory.GetFiles(Path.Combine(Root, "docs"), "*.md"))
        {
            string name = Path.GetFileName(page);
            if (name == "README.md")
                continue;
            Assert.True(index.Contains($"]({name})", StringComparison.Ordinal), $"docs/README.md does not link {name}");
        }
    }

    [Fact]
    public void Every_relative_link_and_anchor_leads_somewhere()
    {
        var broken = new List<string>();
        foreach (string page in Pages())
        {
            string text = WithoutCode(File.ReadAllText(page));
            foreach (Match link in Link().Matches(text))
            {
                string target = link.Groups[1].Value;
                if (target.StartsWith("http", StringComparison.Ordinal) || target.StartsWith("mailto:", StringComparison.Ordinal))
                    continue;
                string[] parts = target.Split('#', 2);
                string file = parts[0].Length == 0 ? page : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(page)!, parts[0]));
                string where = $"{Path.GetRelativePath(Root, page)}: ({target})";
                if (!File.Exists(file) && !Directory.Exists(file))
                    broken.Add(where + " names no file");
                else if (parts.Length == 2 && File.Exists(file) && !Anchors(file).Contains(parts[1]))
                    broken.Add(where + " names no heading there");
            }
        }
        Assert.True(broken.Count == 0, "Broken links:\n" + string.Join("\n", broken));
    }

    [Fact]
    public void Anchors_are_made_as_GitHub_makes_them()
    {
        Assert.Equal(["install", "serving-cached-json-jsonpayload", "get-posts-under-load", "precise-invalidation-tags-typed-eviction-write-through"],
            Anchors("# Install\n## Serving cached JSON: `JsonPayload`\n### `GET /posts/` under load\n## Precise invalidation: tags, typed eviction, write-through\n```sh\n# not a heading\n```", isText: true));
    }

    /// <summary>GitHub's heading anchors: lower case, punctuation dropped but for hyphens, spaces to hyphens.</summary>
    private static List<string> Anchors(string file, bool isText = false)
    {
        string text = WithoutCode(isText ? file : File.ReadAllText(file));
        return Heading().Matches(text)
            .Select(m => Regex.Replace(m.Groups[1].Value.Trim().ToLowerInvariant(), @"[^\p{L}\p{Nd}\- _]", "").Replace(' ', '-'))
            .ToList();
    }

    /// <summary>The text with fenced blocks removed: a <c>#</c> comment in a shell block is no heading, a link in code no link.</summary>
    private static string WithoutCode(string markdown) => Fence().Replace(markdown, "");

    [GeneratedRegex(@"^```.*?^```", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex Fence();

    [GeneratedRegex(@"^#{1,6} (.+)$", RegexOptions.Multiline)]
    private static partial Regex Heading();

    [GeneratedRegex(@"\]\(([^)\s]+)\)")]
    private static partial Regex Link();
}
