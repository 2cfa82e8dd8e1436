using System.Reflection;
using System.Text.RegularExpressions;

namespace CacheGen.Packaging.Tests;

/// <summary>
/// Every shell command the READMEs, CONTRIBUTING.md and docs/ give is in <see cref="ReadmeCommands"/>, with the test or
/// CI script that runs it verbatim (or, for long forms and benchmarks, why nothing does), and every entry there is
/// still in one of them.
/// </summary>
public sealed partial class ReadmeCommandTests
{
    [Fact]
    public void Every_command_in_the_READMEs_is_known_and_every_known_command_is_in_a_README()
    {
        List<(string File, string Command)> found = ReadmeFiles().SelectMany(file => Commands(file).Select(c => (file, c))).ToList();
        Assert.Contains(found, c => c.Command == ReadmeCommands.PackAtRoot);   // the extraction itself works

        HashSet<string> known = ReadmeCommands.All.Select(c => c.Command).ToHashSet(StringComparer.Ordinal);
        string[] unknown = found.Where(c => !known.Contains(c.Command)).Select(c => $"{Relative(c.File)}: {c.Command}").Distinct().ToArray();
        Assert.True(unknown.Length == 0,
            "README commands that no test runs (add each to ReadmeCommands with the test that runs it verbatim):\n" + string.Join("\n", unknown));

        string[] stale = ReadmeCommands.All.Select(c => c.Command).Where(c => !found.Any(f => f.Command == c)).ToArray();
        Assert.True(stale.Length == 0, "ReadmeCommands lists commands no README gives any more:\n" + string.Join("\n", stale));
    }

    [Fact]
    public void Each_known_command_names_a_real_test_or_a_script_that_runs_it_verbatim_or_a_reason()
    {
        foreach (ReadmeCommand command in ReadmeCommands.All)
        {
            Assert.True((command.RunBy is null) != (command.NotRunBecause is null), $"{command.Command}: give a runner or a reason, not both");
            if (command.RunBy is null)
                continue;
            if (command.IsScript)
            {
                string script = File.ReadAllText(Path.Combine(RepositoryCopy.Source, command.RunBy));
                Assert.True(Regex.IsMatch(script, @"(^|[\s;&|(])" + Regex.Escape(command.Command) + @"($|[\s;&|)])", RegexOptions.Multiline),
                    $"{command.RunBy} does not run `{command.Command}` verbatim");
                continue;
            }
            string[] parts = command.RunBy.Split('.');
            Type? type = typeof(ReadmeCommandTests).Assembly.GetTypes().SingleOrDefault(t => t.Name == parts[0]);
            MethodInfo? test = type?.GetMethod(parts[1]);
            Assert.True(test?.GetCustomAttribute<FactAttribute>() is not null, $"{command.Command}: {command.RunBy} is not a test");
        }
    }

    [Fact]
    public void Commands_are_read_from_fenced_shell_blocks_and_from_inline_code_that_reads_as_a_command()
    {
        const string markdown = """
            Run `dotnet run --project x` or `VAR=1 ./y.sh`; not `dotnet run` alone, nor `redis-cli KEYS '*'` or `o.Redis`.
            ```sh
            ./a.sh    # a comment
            # a whole comment line
            dotnet pack \
                -o out
            ```
            ```csharp
            dotnet.Pack();
            ```
            ```
            ACL SETUSER x
            ```
            """;

        Assert.Equal(["./a.sh", "dotnet pack -o out", "dotnet run --project x", "VAR=1 ./y.sh"], CommandsIn(markdown));
    }

    /// <summary>Every page a user or contributor reads: the front door, CONTRIBUTING.md, docs/ and the package READMEs.</summary>
    private static IEnumerable<string> ReadmeFiles() =>
        new[] { "README.md", "CONTRIBUTING.md" }.Select(f => Path.Combine(RepositoryCopy.Source, f))
            .Concat(Directory.GetFiles(Path.Combine(RepositoryCopy.Source, "docs"), "*.md", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            .Concat(new[] { "runtime", "tools" }.SelectMany(folder => Directory.GetDirectories(Path.Combine(RepositoryCopy.Source, folder)))
                .Select(d => Path.Combine(d, "README.md")).Where(File.Exists).Order(StringComparer.Ordinal));

    private static IEnumerable<string> Commands(string file) => CommandsIn(File.ReadAllText(file));

    /// <summary>
    /// The lines of <c>sh</c>/<c>bash</c>/<c>shell</c> fenced blocks (comments dropped, <c>\</c> continuations joined),
    /// then the inline code spans outside blocks that read as a command: <c>dotnet</c> with a verb and an argument,
    /// or a script path (<c>./x.sh</c>, <c>bench/x.sh</c>), either after <c>NAME=value</c> settings. Prose that merely
    /// names a tool (<c>dotnet run</c>, <c>redis-cli</c>) is not a command to run.
    /// </summary>
    internal static List<string> CommandsIn(string markdown)
    {
        var commands = new List<string>();
        var prose = new System.Text.StringBuilder();
        string? fence = null;
        string pending = "";
        foreach (string raw in markdown.Split('\n'))
        {
            string line = raw.TrimEnd('\r');
            string trimmed = line.Trim();
            if (trimmed.StartsWith("```", StringComparison.Ordinal))
            {
                fence = fence is null ? trimmed[3..].Trim() : null;
                continue;
            }
            if (fence is null)
            {
                prose.AppendLine(line);
                continue;
            }
            if (fence is not ("sh" or "bash" or "shell"))
                continue;
            string text = CommentAtEnd().Replace(trimmed, "");
            if (text.StartsWith('#') || text.Length == 0 && pending.Length == 0)
                continue;
            if (text.EndsWith('\\'))
            {
                pending += text[..^1].Trim() + " ";
                continue;
            }
            commands.Add(Spaces().Replace(pending + text, " ").Trim());
            pending = "";
        }
        foreach (Match span in InlineCode().Matches(prose.ToString()))
        {
            string text = Spaces().Replace(span.Groups[1].Value, " ").Trim();
            if (CommandLike().IsMatch(text))
                commands.Add(text);
        }
        return commands;
    }

    private static string Relative(string file) => Path.GetRelativePath(RepositoryCopy.Source, file);

    [GeneratedRegex(@"\s+#(\s.*)?$")]
    private static partial Regex CommentAtEnd();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Spaces();

    [GeneratedRegex(@"(?<!`)`([^`]+)`(?!`)")]
    private static partial Regex InlineCode();

    [GeneratedRegex(@"^([A-Z][A-Z0-9_]*=\S+ )*(dotnet [a-z]+ \S|(\./|bench/)\S+\.sh\b)")]
    private static partial Regex CommandLike();
}
