// Checks that instruction-set-dependent code carries an instruction-set name, through every call chain.
//
// Usage: keyspace_isa_tag_check <isa token> <objdump> <object file>...
//
// The object files are built with the wide flags (-mavx2 -mbmi2 ...) at -O0, so that every inline function a
// program may emit out of line is emitted, with every call it makes visible as a relocation. A function symbol is
// *named* for the instruction set when its mangled name contains the token (keyspace's inline namespace or ABI tag,
// or xsimd's architecture type). It is *dependent* when it is named, or calls or references a dependent symbol.
// A dependent symbol that is not named and that the linker may merge with the same symbol of another file (weak,
// or unique: an inline function, a template instantiation) is the defect: two files built with different
// flags would share one body, and one of them would run the other's instructions. Each is printed with the chain
// that makes it dependent; the exit status is the number found (capped at 100). Only symbols of namespace keyspace
// and the standard library's instantiations over keyspace types are judged (a program's own inline functions are
// its own business; keyspace's README says so).
#include <cxxabi.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace {

std::string demangle(const std::string& s) {
    int status = 0;
    std::unique_ptr<char, void (*)(void*)> d(abi::__cxa_demangle(s.c_str(), nullptr, nullptr, &status), std::free);
    return status == 0 && d ? std::string(d.get()) : s;
}

std::vector<std::string> run_lines(const std::string& cmd) {
    std::vector<std::string> lines;
    FILE* p = popen(cmd.c_str(), "r");
    if (!p) {
        std::fprintf(stderr, "cannot run: %s\n", cmd.c_str());
        std::exit(100);
    }
    std::string cur;
    char buf[4096];
    while (std::fgets(buf, sizeof buf, p)) {
        cur += buf;
        if (!cur.empty() && cur.back() == '\n') {
            cur.pop_back();
            lines.push_back(cur);
            cur.clear();
        }
    }
    if (!cur.empty()) lines.push_back(cur);
    if (pclose(p) != 0) {
        std::fprintf(stderr, "failed: %s\n", cmd.c_str());
        std::exit(100);
    }
    return lines;
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 4) {
        std::fprintf(stderr, "usage: %s <isa token> <objdump> <object>...\n", argv[0]);
        return 100;
    }
    const std::string token = argv[1], objdump = argv[2];
    std::map<std::string, std::set<std::string>> section_refs; // section -> symbols its relocations name
    std::map<std::string, std::string> section_of;             // function symbol -> its section
    std::map<std::string, bool> merged;                        // function symbol -> weak or unique (merged by the linker)
    std::size_t objects = 0;
    for (int i = 3; i < argc; ++i) {
        const std::string obj = argv[i];
        ++objects;
        const std::string tag = std::to_string(i) + ":"; // sections are per object file
        // Symbol table: "<16 hex> <7 flag chars> <section>\t<size> <name>"; flags[0] l/g/u, flags[1] w, flags[6] F.
        for (const std::string& l : run_lines("'" + objdump + "' -t '" + obj + "'")) {
            if (l.size() < 26 || l[16] != ' ' || l[24] != ' ' || l[23] != 'F') continue;
            const auto tab = l.find('\t', 25);
            if (tab == std::string::npos) continue;
            const auto sp = l.find(' ', tab + 1);
            if (sp == std::string::npos) continue;
            const std::string name = l.substr(sp + 1);
            section_of[name] = tag + l.substr(25, tab - 25);
            merged[name] = merged[name] || l[17] == 'u' || l[18] == 'w';
        }
        // Relocations: "RELOCATION RECORDS FOR [<section>]:" then "<offset> <type> <symbol>[+-]0x<addend>".
        std::string cur;
        for (const std::string& l : run_lines("'" + objdump + "' -r '" + obj + "'")) {
            if (l.rfind("RELOCATION RECORDS FOR [", 0) == 0) {
                cur = tag + l.substr(24, l.size() - 24 - 2);
                continue;
            }
            if (cur.empty() || l.empty() || l[0] == 'O') continue;
            const auto t = l.find(' ');
            if (t == std::string::npos) continue;
            const auto v = l.find_first_not_of(' ', l.find(' ', l.find_first_not_of(' ', t)));
            if (v == std::string::npos) continue;
            std::string sym = l.substr(v);
            const auto off = sym.find_last_of("+-");
            if (off != std::string::npos && off > 0 && sym.compare(off + 1, 2, "0x") == 0) sym.resize(off);
            section_refs[cur].insert(sym);
        }
    }
    std::map<std::string, const std::set<std::string>*> refs; // function -> symbols its section references
    const std::set<std::string> none;
    for (const auto& [f, sec] : section_of) {
        const auto r = section_refs.find(sec);
        refs[f] = r == section_refs.end() ? &none : &r->second;
    }
    if (objects == 0) {
        std::fprintf(stderr, "no object files given\n");
        return 100;
    }

    const auto named = [&](const std::string& s) { return s.find(token) != std::string::npos; };
    // Dependent symbols, found backwards from the named ones: why[f] is the dependent symbol f references ("" if f is
    // named itself).
    std::map<std::string, std::vector<const std::string*>> callers;
    std::vector<std::string> queue;
    std::map<std::string, std::string> why;
    for (const auto& [f, r] : refs) {
        for (const std::string& s : *r) {
            callers[s].push_back(&f);
            if (named(s) && why.emplace(s, "").second) queue.push_back(s);
        }
        if (named(f) && why.emplace(f, "").second) queue.push_back(f);
    }
    while (!queue.empty()) {
        const std::string s = queue.back();
        queue.pop_back();
        const auto c = callers.find(s);
        if (c == callers.end()) continue;
        for (const std::string* f : c->second)
            if (why.emplace(*f, s).second) queue.push_back(*f);
    }

    int defects = 0;
    for (const auto& [f, via] : why) {
        if (named(f)) continue;
        if (!merged[f]) continue; // only symbols the linker merges across files
        const auto starts = [&](const char* prefix) { return f.rfind(prefix, 0) == 0; };
        const bool ours = starts("_ZN8keyspace") || starts("_ZNK8keyspace") || starts("_ZZN8keyspace") ||
                          starts("_ZZNK8keyspace");
        const bool std_over_ours = (starts("_ZSt") || starts("_ZNSt") || starts("_ZNKSt")) &&
                                   f.find("8keyspace") != std::string::npos;
        if (!ours && !std_over_ours) continue; // a program's own inline functions are its own business
        const std::string d = demangle(f);
        ++defects;
        std::printf("not named for the instruction set, but runs instruction-set-dependent code:\n  %s\n", d.c_str());
        std::string chain = via;
        for (int depth = 0; !chain.empty() && depth < 8; ++depth) {
            std::printf("    calls %s\n", demangle(chain).c_str());
            if (named(chain)) break;
            const auto n = why.find(chain);
            chain = n == why.end() ? std::string() : n->second;
        }
    }
    std::size_t dependent = 0;
    for (const auto& [f, via] : why) dependent += named(f) ? 0 : 1;
    std::printf("%zu object files, %zu functions, %zu named for '%s', %zu depending on them through calls, "
                "%d not named\n",
                objects, refs.size(), why.size() - dependent, token.c_str(), dependent, defects);
    return defects > 100 ? 100 : defects;
}
