extension OperatingSystem {
    /// Folds the services into the system and checks the result.
    ///
    /// - Returns: the canonical model (`nil` when the system has problems that leave it
    ///   without a host name) and every problem found, each at the declaration at fault.
    public func resolve() -> (model: SystemModel?, diagnostics: [Diagnostic]) {
        let fold = ServiceFold(services)
        var problems = self.problems + fold.problems
        var sources = self.sources
        if hostName == nil {
            problems.append(Diagnostic("the system has no host name; add HostName(\"…\") to its block", at: location))
        }

        var packages = Set(self.packages)
        var kernelArguments = self.kernelArguments
        var files = Table<File>(), units = Table<SystemdUnit>(), mounts = Table<Mount>()
        var users = Table<User>(), groups = Table<Group>()
        var checks = Table<Check>()

        // What services contribute; two services setting the same thing differently is an error.
        func merge<Value: Equatable>(
            _ value: Value, into table: inout Table<Value>, key: String, what: String, from contribution: ServiceFold.Contribution
        ) {
            let sourceKey = "\(what):\(key)"
            if let existing = table[key], existing != value {
                problems.append(Diagnostic(
                    "\(what) '\(key)' is set differently by service '\(contribution.service)' and at \(sources[sourceKey]!)",
                    at: contribution.location))
                return
            }
            table[key] = value
            sources[sourceKey] = sources[sourceKey] ?? contribution.location
        }
        for contribution in fold.contributions {
            switch contribution.value {
            case .packages(let names):
                for name in names where packages.insert(name).inserted {
                    sources["package:\(name)"] = sources["package:\(name)"] ?? contribution.location
                }
            case .file(let file): merge(file, into: &files, key: file.path, what: "file", from: contribution)
            case .unit(let unit): merge(unit, into: &units, key: unit.name, what: "unit", from: contribution)
            case .mount(let mount): merge(mount, into: &mounts, key: mount.mountPoint, what: "mount", from: contribution)
            case .user(let user): merge(user, into: &users, key: user.name, what: "user", from: contribution)
            case .group(let group): merge(group, into: &groups, key: group.name, what: "group", from: contribution)
            case .kernelArguments(let arguments):
                kernelArguments += arguments.filter { !kernelArguments.contains($0) }
            case .check(let check): merge(check, into: &checks, key: check.name, what: "check", from: contribution)
            }
        }
        // What the system declares itself wins over what services contribute.
        for user in self.users { users[user.name] = user }
        for group in self.groups { groups[group.name] = group }
        for unit in self.units { units[unit.name] = unit }
        for mount in self.mounts { mounts[mount.mountPoint] = mount }
        let sudoers = users.values.filter { $0.sudo != .none }
        if !sudoers.isEmpty {
            // Users with sudo rights need the package and a sudoers rule.
            let rules = sudoers.sorted { $0.name < $1.name }.map { user in
                "\(user.name) ALL=(ALL:ALL) \(user.sudo == .withoutPassword ? "NOPASSWD: " : "")ALL\n"
            }
            files["/etc/sudoers.d/50-imagec"] = File(
                "/etc/sudoers.d/50-imagec", mode: 0o440, contents: "# Written by imagec from the system definition.\n" + rules.joined())
            sources["file:/etc/sudoers.d/50-imagec"] = sources["user:\(sudoers[0].name)"]
            if packages.insert("sudo").inserted { sources["package:sudo"] = sources["user:\(sudoers[0].name)"] }
        }
        for file in self.files { files[file.path] = file }

        // Every system's own checks, then the declared ones (which may replace them), less
        // those turned off.
        var own = [Check.bootCompleted(), Check("host name", .hostName(hostName ?? "")),
                   Check("users", .users(users.values.map { Check.UserExpectation(name: $0.name, uid: $0.uid) }.sorted { $0.name < $1.name }))]
        // Declared file systems are mounted, at 90 % of their size or more (file system
        // overhead), persistent volumes included.
        let mounted = disk.partitions.compactMap { partition in partition.mountPoint.map { ($0, partition.size, partition.fileSystem) } }
            + disk.persistentVolumes.map { ($0.mountPoint, $0.size, $0.fileSystem) }
        own += mounted.filter { $0.2 != .swap }.map { Check.mounted($0.0, atLeast: ByteCount(bytes: $0.1.bytes / 10 * 9)) }
        for check in own where checks[check.name] == nil
        {
            checks[check.name] = check
            sources["check:\(check.name)"] = sources["check:\(check.name)"] ?? location
        }
        for check in self.checks { checks[check.name] = check }
        for (name, removal) in self.removedChecks.sorted(by: { $0.key < $1.key }) {
            if checks[name] == nil, self.sources["check:\(name)"] == nil {
                problems.append(Diagnostic("cannot remove check '\(name)': the system has no such check", at: removal))
            }
            checks[name] = nil
        }

        let kernelPackage = self.kernelPackage ?? distribution.defaultKernelPackage(for: architecture)
        sources["package:\(kernelPackage)"] = sources["kernel"] ?? location

        var services: [ServiceRecord] = []
        for declaration in fold.services {
            for message in declaration.service.validate() {
                problems.append(Diagnostic(message, at: declaration.location))
            }
            sources["service:\(declaration.name)"] = sources["service:\(declaration.name)"] ?? declaration.location
            do {
                services.append(ServiceRecord(type: declaration.name, configuration: try JSONValue(encoding: declaration.service)))
            } catch {
                problems.append(Diagnostic(
                    "the value of service '\(declaration.name)' cannot be encoded: \(error)", at: declaration.location))
            }
        }

        let model = SystemModel(
            hostName: hostName ?? "",
            distribution: distribution,
            architecture: architecture,
            aptSources: aptSources,
            snapshotArchives: snapshotArchives,
            sharedStore: sharedStore,
            kernelPackage: kernelPackage,
            kernelArguments: kernelArguments,
            firmware: firmware,
            disk: disk,
            timezone: timezone,
            locales: locales,
            keyboard: keyboard,
            network: network,
            packages: packages.sorted(),
            users: users.values.sorted { $0.name < $1.name },
            groups: groups.values.sorted { $0.name < $1.name },
            files: files.values.sorted { $0.path < $1.path },
            units: units.values.sorted { $0.name < $1.name },
            mounts: mounts.values.sorted { $0.mountPoint < $1.mountPoint },
            services: services.enumerated().sorted { ($0.element.type, $0.offset) < ($1.element.type, $1.offset) }.map(\.element),
            checks: checks.values.sorted { $0.name < $1.name },
            deployment: deployment,
            sources: sources)
        problems += SystemValidator(model, users: users.values, groups: groups.values).problems
        for message in deployment?.validate() ?? [] { problems.append(Diagnostic(message, at: sources["deployment"] ?? location)) }
        if let deployment, deployment.shutdown == .powerOff, let volume = model.disk.persistentVolumes.first {
            problems.append(Diagnostic(
                "shutdown: .powerOff would cut persistent volume '\(volume.name)' off without a clean shutdown; "
                    + "a machine with persistent volumes shuts down cleanly (shutdown: .clean)", at: sources["deployment"] ?? location))
        }
        if let deployment, deployment.machine != nil {
            for volume in model.disk.persistentVolumes where volume.snapshotBeforeDeploy && deployment.volumes[volume.name] == nil {
                problems.append(Diagnostic(
                    "volume '\(volume.name)' is snapshotted before each deployment, but the Deployment names no pool image for it "
                        + "(volumes: [\"\(volume.name)\": \"<image>\"])", at: sources["deployment"] ?? location))
            }
            for name in deployment.volumes.keys.sorted() where !model.disk.persistentVolumes.contains(where: { $0.name == name }) {
                problems.append(Diagnostic("the Deployment names a disk for volume '\(name)', which the system does not declare",
                                           at: sources["deployment"] ?? location))
            }
        }
        return (hostName == nil ? nil : model, problems)
    }
}

/// A table keyed by name that remembers the order keys were first added in.
struct Table<Value> {
    private var keys: [String] = []
    private var entries: [String: Value] = [:]

    subscript(key: String) -> Value? {
        get { entries[key] }
        set {
            if entries[key] == nil, newValue != nil { keys.append(key) }
            if newValue == nil { keys.removeAll { $0 == key } }
            entries[key] = newValue
        }
    }

    /// The values in the order their keys were first added.
    var values: [Value] { keys.map { entries[$0]! } }
}
